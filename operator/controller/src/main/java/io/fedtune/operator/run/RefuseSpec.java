package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.status.Situation;

/**
 * {@link RoundState.InvalidSpec}: what the API server should have refused (an old CRD, or a cluster without CEL, lets a
 * bad spec in), a change of a field a started run cannot change, or storage this operator has no signer for. Says so
 * once (an Event), creates nothing.
 */
final class RefuseSpec extends RoundStep<RoundState.InvalidSpec> {

    RefuseSpec(RoundActions actions) {
        super(RoundState.InvalidSpec.class, actions);
    }

    @Override
    void apply(RunSnapshot s, RoundState.InvalidSpec state) {
        if (!Conditions.says(s.status.conditions, ConditionType.READY, state.reason(), state.message())) {
            actions.events().record(s.run, switch (state.reason()) {
                case InvalidSpec -> EventReason.InvalidSpec;
                case SignerMissing -> EventReason.SignerMissing;
                default -> EventReason.ImmutableFieldChanged;
            }, state.message());
        }
        s.situation = Situation.blocked(s.status.phase, state.reason(), state.message());
    }
}
