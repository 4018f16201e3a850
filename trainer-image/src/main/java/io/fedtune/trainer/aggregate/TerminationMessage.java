package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.TrainerEnv;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** The aggregation's termination message, shortened until it fits Kubernetes' 4 KB; the manifest keeps the full text. */
public final class TerminationMessage {
    private TerminationMessage() {
    }

    public static String of(AggregateResult result) {
        String json = ContractJson.write(result);
        if (fits(json)) {
            return json;
        }
        // first shorten refusal messages, then drop them (reasons stay), then the accepted list
        for (int limit : new int[] {120, 40, 0}) {
            json = ContractJson.write(withRefusals(result, shorten(result.refused(), limit), result.accepted()));
            if (fits(json)) {
                return json;
            }
        }
        json = ContractJson.write(withRefusals(result, shorten(result.refused(), 0), null));
        if (fits(json)) {
            return json;
        }
        String message = result.message() == null ? "" : result.message();
        return ContractJson.write(new AggregateResult(result.outcome(), result.reason(),
                message.substring(0, Math.min(message.length(), 1000)), result.round(), result.adapter(), result.sha256(),
                null, null, result.evalLoss(), null, result.regressed(), result.truncationEnergy(), result.epsilon(),
                result.seconds()));
    }

    private static boolean fits(String json) {
        return json.getBytes(StandardCharsets.UTF_8).length <= TrainerEnv.TERMINATION_MESSAGE_LIMIT;
    }

    private static List<Refusal> shorten(List<Refusal> refused, int limit) {
        if (refused == null) {
            return null;
        }
        return refused.stream().map(r -> new Refusal(r.shard(), r.reason(), limit == 0 ? null
                : r.message() == null || r.message().length() <= limit ? r.message() : r.message().substring(0, limit) + "…"))
                .toList();
    }

    private static AggregateResult withRefusals(AggregateResult r, List<Refusal> refused, List<String> accepted) {
        return new AggregateResult(r.outcome(), r.reason(), r.message(), r.round(), r.adapter(), r.sha256(), accepted,
                refused, r.evalLoss(), r.evalLosses(), r.regressed(), r.truncationEnergy(), r.epsilon(), r.seconds());
    }
}
