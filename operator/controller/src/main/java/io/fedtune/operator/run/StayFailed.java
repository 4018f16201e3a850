package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.status.Situation;

/** {@link RoundState.Failed}: the run stays failed with the reason it failed for; nothing starts again. */
final class StayFailed extends RoundStep<RoundState.Failed> {

    StayFailed(RoundActions actions) {
        super(RoundState.Failed.class, actions);
    }

    @Override
    void apply(RunSnapshot s, RoundState.Failed state) {
        s.situation = Situation.of(Phase.Failed, state.reason(), state.message());
    }
}
