package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.status.Situation;

/** {@link RoundState.Suspended}: paused between rounds until spec.suspend is false; the Event is recorded once. */
final class StaySuspended implements RoundStep<RoundState.Suspended> {
    private final RoundActions actions;

    StaySuspended(RoundActions actions) {
        this.actions = actions;
    }

    @Override
    public Class<RoundState.Suspended> handles() {
        return RoundState.Suspended.class;
    }

    @Override
    public void apply(RunSnapshot s, RoundState.Suspended state) {
        if (s.status.phase != Phase.Suspended) {
            actions.events().record(s.run, EventReason.Suspended, "suspended after round " + state.completed());
        }
        s.situation = Situation.of(Phase.Suspended, ConditionReason.SuspendRequested, "suspended after round "
                + state.completed() + "; set spec.suspend to false to resume");
    }
}
