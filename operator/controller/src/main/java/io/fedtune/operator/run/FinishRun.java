package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.status.Situation;

/** {@link RoundState.Finished}: the run succeeded (all rounds, or stopped early); the Event is recorded once. */
final class FinishRun implements RoundStep<RoundState.Finished> {
    private final RoundActions actions;

    FinishRun(RoundActions actions) {
        this.actions = actions;
    }

    @Override
    public Class<RoundState.Finished> handles() {
        return RoundState.Finished.class;
    }

    @Override
    public void apply(RunSnapshot s, RoundState.Finished state) {
        if (s.status.phase != Phase.Succeeded) {
            actions.events().record(s.run, EventReason.RunSucceeded, state.message());
        }
        s.situation = Situation.of(Phase.Succeeded, state.reason(), state.message());
    }
}
