package io.fedtune.api.contract;

import java.util.List;
import java.util.Map;

/**
 * What the published adapter's README.md says about how it was made (part of {@link PublishTask}).
 *
 * @param run        FederatedRun name
 * @param baseModel  s3:// prefix of the base checkpoint
 * @param dataOwners ClientShard names whose updates were aggregated in any round (names only)
 * @param rounds     rounds completed
 * @param strategy   aggregation strategy, e.g. FedAvg
 * @param rank       LoRA rank
 * @param alpha      LoRA alpha
 * @param targetModules LoRA target modules
 * @param epsilon    differential-privacy epsilon spent, with its delta; null without privacy
 * @param delta      the delta epsilon is stated for
 * @param evalMetric the metric that chose the adapter (the primary set's), or null
 * @param evaluation the chosen round's global evaluation, one row per eval set (first: the primary)
 */
public record ModelCard(
        String run,
        String baseModel,
        List<String> dataOwners,
        int rounds,
        String strategy,
        int rank,
        double alpha,
        List<String> targetModules,
        Double epsilon,
        Double delta,
        String evalMetric,
        List<EvalRow> evaluation) {

    /** One eval set of the chosen round: its task and every metric it reported, by name. */
    public record EvalRow(String set, String task, Map<String, Double> metrics) {
    }
}
