package io.fedtune.operator.run;

import io.fedtune.api.contract.ModelCard;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.api.v1alpha1.TargetModule;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/** What the published adapter's model card says, from the run's spec and status (names and figures only, never a secret). */
final class RunModelCard {
    private RunModelCard() {
    }

    static ModelCard of(String run, FederatedRunSpec spec, FederatedRunStatus status, AdapterRef best) {
        var privacy = spec.aggregation.privacy;
        return new ModelCard(run, spec.baseModel.uri, dataOwners(status), status.completedRounds == null ? 0 : status.completedRounds,
                spec.aggregation.strategy.name(), spec.lora.rank, spec.lora.alpha,
                spec.lora.targetModules.stream().map(TargetModule::moduleName).toList(),
                privacy != null ? epsilon(status) : null, privacy != null ? privacy.delta : null,
                AdapterChoice.metric(best), evaluation(spec, status, best));
    }

    /**
     * The shards whose updates were aggregated in any round, in the order they first took part. The history is the only
     * record of who was aggregated, and it is bounded: rounds older than the last {@link FederatedRunStatus#HISTORY_LIMIT}
     * and participants beyond the first {@link RoundSummary#NAMES_LIMIT} of a round are not named (a shard's own status
     * keeps only its last run, and says nothing of whether its update was refused). The card then names the owners it
     * knows; those beyond are lost.
     */
    static List<String> dataOwners(FederatedRunStatus status) {
        Set<String> owners = new LinkedHashSet<>();
        status.history.stream().filter(r -> r.outcome != RoundOutcome.Failed).forEach(r -> owners.addAll(r.participants));
        return new ArrayList<>(owners);
    }

    /** Privacy epsilon spent by the end: the latest round's cumulative figure. */
    private static Double epsilon(FederatedRunStatus status) {
        for (int i = status.history.size() - 1; i >= 0; i--) {
            if (status.history.get(i).epsilon != null) {
                return status.history.get(i).epsilon;
            }
        }
        return null;
    }

    /**
     * The chosen round's global evaluation, one row per eval set (the primary first, as the spec lists them), each
     * with its task from the spec. A best round older than the history keeps only what its AdapterRef says: one row of
     * the primary set's ranking metric and loss.
     */
    static List<ModelCard.EvalRow> evaluation(FederatedRunSpec spec, FederatedRunStatus status, AdapterRef best) {
        Map<String, String> tasks = new LinkedHashMap<>();
        for (EvalDataset d : spec.evaluation.datasets) {
            tasks.put(d.name, d.task == null ? null : d.task.name());
        }
        Optional<RoundSummary> round = status.history.stream().filter(r -> best.round != null && best.round.equals(r.round)).findFirst();
        List<ModelCard.EvalRow> rows = new ArrayList<>();
        if (round.isPresent() && !round.get().evalScores.isEmpty()) {
            Map<String, Map<String, Double>> scores = round.get().evalScores;
            List<String> sets = new ArrayList<>(tasks.keySet().stream().filter(scores::containsKey).toList());
            scores.keySet().stream().filter(n -> !sets.contains(n)).forEach(sets::add);
            for (String set : sets) {
                rows.add(new ModelCard.EvalRow(set, tasks.get(set), new TreeMap<>(scores.get(set))));
            }
            return rows;
        }
        if (!tasks.isEmpty() && AdapterChoice.score(best) != null) {
            Map<String, Double> metrics = new TreeMap<>();
            metrics.put(AdapterChoice.metric(best), AdapterChoice.score(best));
            if (best.evalLoss != null) {
                metrics.put("Loss", best.evalLoss);
            }
            String primary = tasks.keySet().iterator().next();
            rows.add(new ModelCard.EvalRow(primary, tasks.get(primary), metrics));
        }
        return rows;
    }
}
