package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.status.Situation;

/** {@link RoundState.Suspended}: paused between rounds until spec.suspend is false; the Event is recorded once. */
final class StaySuspended extends RoundStep<RoundState.Suspended> {

    StaySuspended(RoundActions actions) {
        super(RoundState.Suspended.class, actions);
    }

    @Override
    void apply(RunSnapshot s, RoundState.Suspended state) {
        recordOnEntering(s, Phase.Suspended, EventReason.Suspended, "suspended after round " + state.completed());
        s.situation = Situation.of(Phase.Suspended, ConditionReason.SuspendRequested, "suspended after round "
                + state.completed() + "; set spec.suspend to false to resume");
    }
}
