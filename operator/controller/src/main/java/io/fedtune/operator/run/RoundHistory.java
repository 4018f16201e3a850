package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.round.FailedAttempts;
import io.fedtune.operator.round.RoundPods;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A round's entry in the bounded history (20 rounds; counts for every list, names for the first 10 of each), and the
 * status a recorded round leaves behind: the run is between rounds again.
 */
final class RoundHistory {
    private RoundHistory() {
    }

    /** The entry of the round in flight, before its results are filled in. */
    static RoundSummary entry(RunSnapshot s, RoundOutcome outcome, RoundCut cut, RoundPods pods) {
        RoundSummary summary = new RoundSummary();
        summary.round = s.status.currentRound;
        summary.outcome = outcome;
        summary.failed = new ArrayList<>(cut.failed());
        summary.stragglers = new ArrayList<>(cut.stragglers());
        summary.startedAt = s.status.roundStartedAt;
        FailedAttempts.count(summary, pods, s.status.roundShards, shard -> cut.failed().contains(shard) ? reason(cut.why().get(shard)) : null);
        return summary;
    }

    /** Adds the entry and ends the round: the next reconcile finds the run between rounds. */
    static void record(RunSnapshot s, RoundSummary summary, RunMetrics metrics) {
        FederatedRunStatus status = s.status;
        status.history.add(bounded(summary));
        while (status.history.size() > FederatedRunStatus.HISTORY_LIMIT) {
            status.history.remove(0);
        }
        status.completedRounds = status.currentRound;
        status.roundShards = new ArrayList<>();
        if (status.shards != null) {
            status.shards.running = 0;
        }
        s.movedTo(RoundState.Kind.BetweenRounds);
        Duration took = Duration.between(Instant.parse(status.roundStartedAt), s.now);
        metrics.roundFinished(s.namespace(), summary.outcome.name(), took.isNegative() ? Duration.ZERO : took);
        s.requeueAfter(Duration.ZERO);
    }

    /**
     * Counts for every list, names for the first {@link RoundSummary#NAMES_LIMIT} of each: status stays small whatever
     * the number of shards (each shard's own status keeps its part in the round).
     */
    static RoundSummary bounded(RoundSummary summary) {
        summary.participantCount = summary.participants.size();
        summary.refusedCount = summary.refused.size();
        summary.failedCount = summary.failed.size();
        summary.stragglerCount = summary.stragglers.size();
        summary.failedAttemptShardCount = summary.failedAttemptShards.size();
        boolean cut = summary.participantCount > RoundSummary.NAMES_LIMIT || summary.refusedCount > RoundSummary.NAMES_LIMIT
                || summary.failedCount > RoundSummary.NAMES_LIMIT || summary.stragglerCount > RoundSummary.NAMES_LIMIT
                || summary.failedAttemptShardCount > RoundSummary.NAMES_LIMIT;
        summary.participants = first(summary.participants);
        summary.refused = first(summary.refused);
        summary.failed = first(summary.failed);
        summary.stragglers = first(summary.stragglers);
        summary.failedAttemptShards = first(summary.failedAttemptShards);
        summary.localEvals = first(summary.localEvals);
        if (cut) {
            summary.message = (summary.message == null ? "" : summary.message + "; ") + "shard lists name the first "
                    + RoundSummary.NAMES_LIMIT + " of each, the counts give the totals";
        }
        return summary;
    }

    /** Shard names for messages and events: the first {@link RoundSummary#NAMES_LIMIT}, then how many more. */
    static String names(List<String> shards) {
        return shards.size() <= RoundSummary.NAMES_LIMIT ? shards.toString()
                : first(shards) + " and " + (shards.size() - RoundSummary.NAMES_LIMIT) + " more";
    }

    /**
     * "; failed: a (Reason: message), b (Reason) and n more", from each shard's last trainer attempt, or what the round's
     * cut recorded for a shard whose pod is gone (one that never started is deleted when training ends); empty for none.
     */
    static String failureDetail(RoundPods pods, List<String> failed, RoundCut cut) {
        if (failed.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (String shard : first(failed)) {
            List<Pod> attempts = pods.trainerAttempts(shard);
            String recorded = cut.why().get(shard);
            String why = recorded != null ? recorded : attempts.isEmpty() ? "no trainer pod"
                    : Optional.ofNullable(PodOutcome.of(attempts.get(attempts.size() - 1)).reason()).orElse("Unknown");
            parts.add(shard + " (" + why + ")");
        }
        return "; failed: " + String.join(", ", parts)
                + (failed.size() > parts.size() ? " and " + (failed.size() - parts.size()) + " more" : "");
    }

    /** The reason of what the cut recorded ("Reason: message"), null when it recorded nothing. */
    private static String reason(String recorded) {
        if (recorded == null) {
            return null;
        }
        int colon = recorded.indexOf(':');
        return colon < 0 ? recorded : recorded.substring(0, colon);
    }

    /**
     * The aggregate's every metric per eval set as status keeps it: the first {@link #EVAL_SETS_LIMIT} sets (the CRD's
     * bound on spec.evaluation.datasets), and of each the metrics of its task as the spec names it (at most 3), or for
     * a set the spec no longer names the metrics this operator knows; an image's other figures are dropped, so a
     * round's entry stays bounded whatever the image reports.
     */
    static java.util.Map<String, java.util.Map<String, Double>> evalScores(java.util.Map<String, java.util.Map<String, Double>> scores,
            List<io.fedtune.api.v1alpha1.EvalDataset> sets) {
        java.util.Map<String, java.util.Map<String, Double>> kept = new java.util.LinkedHashMap<>();
        if (scores == null) {
            return kept;
        }
        java.util.Map<String, List<io.fedtune.api.v1alpha1.EvalMetric>> tasks = new java.util.HashMap<>();
        for (var d : sets == null ? List.<io.fedtune.api.v1alpha1.EvalDataset>of() : sets) {
            tasks.put(d.name, (d.task == null ? io.fedtune.api.v1alpha1.EvalTask.LanguageModeling : d.task).metrics());
        }
        scores.entrySet().stream().filter(e -> e.getValue() != null).limit(EVAL_SETS_LIMIT).forEach(e -> {
            java.util.Map<String, Double> metrics = new java.util.TreeMap<>();
            e.getValue().forEach((metric, value) -> {
                var known = io.fedtune.api.v1alpha1.EvalMetric.named(metric);
                if (value != null && known != null && (!tasks.containsKey(e.getKey()) || tasks.get(e.getKey()).contains(known))) {
                    metrics.put(metric, value);
                }
            });
            kept.put(e.getKey(), metrics);
        });
        return kept;
    }

    /** spec.evaluation.datasets holds at most this many sets. */
    static final int EVAL_SETS_LIMIT = 8;

    /** The latest recorded round that has a global evaluation (failed rounds have none), for the eval gauges. */
    static Optional<RoundSummary> latestEvaluated(FederatedRunStatus status) {
        for (int i = status.history.size() - 1; i >= 0; i--) {
            if (status.history.get(i).outcome != RoundOutcome.Failed) {
                return Optional.of(status.history.get(i));
            }
        }
        return Optional.empty();
    }

    static Double seconds(String from, Instant to) {
        if (from == null || to == null) {
            return null;
        }
        return Math.max(0, Duration.between(Instant.parse(from), to).toMillis() / 1000.0);
    }

    static Double mean(List<Double> values) {
        return values.isEmpty() ? null : values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }

    private static <T> List<T> first(List<T> list) {
        return list.size() <= RoundSummary.NAMES_LIMIT ? list : new ArrayList<>(list.subList(0, RoundSummary.NAMES_LIMIT));
    }
}
