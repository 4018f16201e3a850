package io.fedtune.operator.run;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.status.Situation;
import io.fedtune.operator.validation.Violation;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Validates again what the API server should have refused (an old CRD, or a cluster without CEL, lets a bad spec in),
 * and refuses a change of the fields a started run cannot change. Either way nothing is created.
 */
final class CheckSpec implements RoundStep {
    private final RoundActions actions;

    CheckSpec(RoundActions actions) {
        this.actions = actions;
    }

    @Override
    public Next apply(RunSnapshot s) {
        List<Violation> violations = actions.validator().validate(s.run, null);
        if (!violations.isEmpty()) {
            String message = String.join("; ", violations.stream().map(Violation::message).toList());
            return refuse(s, "InvalidSpec", message);
        }
        List<String> changed = changedImmutableFields(s);
        if (!changed.isEmpty()) {
            return refuse(s, "ImmutableFieldChanged", String.join(", ", changed)
                    + " changed after the run started; set it back, or create a new FederatedRun for a different "
                    + (changed.size() > 1 ? "base model or adapter shape" : changed.get(0).equals("spec.baseModel") ? "base model" : "adapter shape"));
        }
        return Next.CONTINUE;
    }

    private Next refuse(RunSnapshot s, String reason, String message) {
        boolean alreadySaid = Conditions.find(s.status.conditions, ConditionType.READY)
                .map(c -> reason.equals(c.getReason()) && message.equals(c.getMessage())).orElse(false);
        if (!alreadySaid) {
            actions.events().warning(s.run, reason, message);
        }
        s.situation = Situation.blocked(s.status.phase, reason, message);
        return Next.STOP;
    }

    private static List<String> changedImmutableFields(RunSnapshot s) {
        List<String> changed = new ArrayList<>();
        if (s.status.startedWith == null) {
            return changed;
        }
        var mapper = ContractJson.mapper();
        if (!Objects.equals(mapper.valueToTree(s.status.startedWith.baseModel), mapper.valueToTree(s.run.getSpec().baseModel))) {
            changed.add("spec.baseModel");
        }
        if (!Objects.equals(mapper.valueToTree(s.status.startedWith.lora), mapper.valueToTree(s.run.getSpec().lora))) {
            changed.add("spec.lora");
        }
        return changed;
    }
}
