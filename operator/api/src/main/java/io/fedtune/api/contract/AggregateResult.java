package io.fedtune.api.contract;

import java.util.List;
import java.util.Map;

/**
 * Termination message of an aggregation container (JSON, under 4 KB). On failure only outcome, reason and message are set.
 *
 * @param outcome          Succeeded or Failed
 * @param reason           CamelCase reason on failure, e.g. NoValidUpdates
 * @param message          for people
 * @param round            round number
 * @param adapter          s3:// prefix of the new global adapter
 * @param sha256           SHA-256 of its adapter_model.safetensors
 * @param accepted         shards averaged in
 * @param refused          shards refused, with reasons
 * @param evalLoss         primary global eval loss (mean per token of its gold answers), or null without eval sets
 * @param evalLosses       loss per named eval set
 * @param regressed        whether evalScore is worse than the task's bestEvalScore (informational: the operator
 *                         applies spec.evaluation.regressionTolerance to evalScore itself, and uses this only when
 *                         a result carries no score)
 * @param truncationEnergy fraction of the update's energy kept by ExactProduct's truncation, or null
 * @param epsilon          cumulative privacy epsilon, or null
 * @param seconds          wall time
 * @param device           where the global evaluation ran ({@code cpu} or {@code gpu}); null when none ran
 * @param precision        its dtype ({@code FP32} or {@code BF16}); null when none ran
 * @param optimizerStateSha256 SHA-256 of each server state file written under the task's optimizerState, by name
 * @param configSha256     SHA-256 of the new global adapter's adapter_config.json
 * @param evalMetric       the primary set's ranking metric ({@code EvalMetric} name), or null without eval sets
 * @param evalScore        its value
 * @param evalScores       every metric of each eval set, by set then metric name
 */
public record AggregateResult(
        Outcome outcome,
        String reason,
        String message,
        Integer round,
        String adapter,
        String sha256,
        List<String> accepted,
        List<Refusal> refused,
        Double evalLoss,
        Map<String, Double> evalLosses,
        Boolean regressed,
        Double truncationEnergy,
        Double epsilon,
        Double seconds,
        String device,
        String precision,
        Map<String, String> optimizerStateSha256,
        String configSha256,
        String evalMetric,
        Double evalScore,
        Map<String, Map<String, Double>> evalScores) {

    public static AggregateResult failed(FailureReason reason, String message) {
        return new AggregateResult(Outcome.Failed, reason.name(), message, null, null, null, null, null, null, null, null, null,
                null, null, null, null, null, null, null, null, null);
    }
}
