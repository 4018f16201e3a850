package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.status.Situation;

/** {@link RoundState.Finished}: the run succeeded (all rounds, or stopped early); the Event is recorded once. */
final class FinishRun extends RoundStep<RoundState.Finished> {

    FinishRun(RoundActions actions) {
        super(RoundState.Finished.class, actions);
    }

    @Override
    void apply(RunSnapshot s, RoundState.Finished state) {
        recordOnEntering(s, Phase.Succeeded, EventReason.RunSucceeded, state.message());
        s.situation = Situation.of(Phase.Succeeded, state.reason(), state.message());
    }
}
