package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.EvaluationSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RefusedUpdate;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Records how a round ended: its summary in the bounded history, the latest and best adapter with rollback on regression,
 * early-stopping bookkeeping, each shard's own status, events and metrics.
 *
 * <p>A round without minShards successful updates fails the run (reason TooFewShards) rather than being retried: when
 * that many shards cannot deliver, the cause is almost always structural (a wrong Secret, data or image) and a repeat
 * would burn every site's GPUs on the same failure. The failed round stays in history with each shard's reason; the
 * adapters of earlier rounds stay valid.
 */
final class RoundEnding {
    private final RoundActions actions;

    RoundEnding(RoundActions actions) {
        this.actions = actions;
    }

    void completed(RunSnapshot s, RoundPods pods, Pod aggregation, RoundCut cut) {
        int round = s.status.currentRound;
        AggregateResult result = PodOutcome.of(aggregation).aggregateResult();
        // the task only fills gaps of a short result; without it (its ConfigMap deleted by hand) fall back to the pods
        Optional<AggregateTask> task = AggregateRound.task(actions.pods(), aggregation);
        Map<String, TrainResult> trained = trainResults(pods, s.status.roundShards);
        Set<String> refusedShards = new HashSet<>();
        RoundSummary summary = summary(s, RoundOutcome.Completed, cut);
        for (Refusal r : Optional.ofNullable(result.refused()).orElse(List.of())) {
            summary.refused.add(new RefusedUpdate(r.shard(), r.reason(), r.message()));
            refusedShards.add(r.shard());
        }
        summary.participants = result.accepted() != null ? new ArrayList<>(result.accepted())
                : task.map(t -> t.updates().stream().map(ShardUpdate::shard)).orElseGet(() -> trained.keySet().stream().sorted())
                        .filter(n -> !refusedShards.contains(n)).toList();
        summary.meanTrainLoss = mean(summary.participants.stream().map(trained::get).filter(t -> t != null && t.trainLoss() != null)
                .map(TrainResult::trainLoss).toList());
        Double loss = result.evalLoss() != null ? result.evalLoss()
                : mean(summary.participants.stream().map(trained::get).filter(t -> t != null && t.evalLossAfter() != null)
                        .map(TrainResult::evalLossAfter).toList());
        summary.globalEvalLoss = loss;
        if (result.evalLosses() != null) {
            summary.evalLosses.putAll(result.evalLosses());
        }
        summary.epsilon = result.epsilon();
        summary.trainingSeconds = seconds(s.status.roundStartedAt, aggregationStart(pods));
        summary.aggregationSeconds = result.seconds() != null ? result.seconds() : AggregateRound.duration(aggregation).toMillis() / 1000.0;

        AdapterRef adapter = new AdapterRef(result.adapter() != null ? result.adapter()
                : task.map(AggregateTask::output).orElseGet(() -> TrainerPodBuilder.layout(s.run).globalAdapter(round)), round, result.sha256(), loss);
        applyEvaluation(s, summary, adapter, result);
        summary.message = summary.participants.size() + " update(s) aggregated" + (summary.refused.isEmpty() ? "" : ", "
                + summary.refused.size() + " refused") + (summary.outcome == RoundOutcome.RolledBack ? "; regressed, rolled back" : "");

        for (RefusedUpdate r : summary.refused) {
            actions.metrics().shardOutcome(s.namespace(), "Refused");
            actions.events().warning(s.run, "UpdateRefused", "round " + round + ": the aggregator refused shard " + r.shard
                    + "'s update (" + r.reason + "): " + r.message);
        }
        trained.forEach((shard, t) -> {
            actions.shardStatus().trained(s.namespace(), shard, s.name(), round, t);
            if (!refusedShards.contains(shard)) {
                actions.metrics().shardOutcome(s.namespace(), "Succeeded");
            }
        });
        recordFailures(s, pods, cut.failed(), cut.stragglers());
        finishRound(s, summary);
        actions.events().normal(s.run, "RoundFinished", "round " + round + " " + summary.outcome + ": " + summary.message
                + (loss != null ? ", global eval loss " + String.format(java.util.Locale.ROOT, "%.4f", loss) : ""));
        s.situation = Situation.running("RoundFinished", "round " + round + " recorded");
    }

    void tooFewShards(RunSnapshot s, List<String> succeeded, List<String> failed, List<String> stragglers) {
        int round = s.status.currentRound;
        RoundPods pods = new RoundPods(s.pods, round);
        String message = "round " + round + ": " + succeeded.size() + " of " + s.status.roundShards.size()
                + " shard(s) trained successfully, spec.participation.minShards is " + s.run.getSpec().participation.minShards
                + failureDetail(pods, failed) + (stragglers.isEmpty() ? "" : "; cut by the round timeout: " + names(stragglers));
        RoundSummary summary = summary(s, RoundOutcome.Failed, new RoundCut(failed, stragglers));
        summary.message = message;
        trainResults(pods, succeeded).forEach((shard, t) -> actions.shardStatus().trained(s.namespace(), shard, s.name(), round, t));
        recordFailures(s, pods, failed, stragglers);
        for (List<Pod> attempts : pods.allTrainerAttempts()) {
            actions.pods().delete(attempts.get(attempts.size() - 1));
        }
        failRun(s, summary, "TooFewShards", message);
    }

    void aggregationFailed(RunSnapshot s, Attempts attempts, RoundCut cut) {
        int round = s.status.currentRound;
        String message = "round " + round + ": aggregation failed after " + attempts.attempt() + " attempt(s) ("
                + attempts.last().reason() + "): " + attempts.last().message();
        RoundSummary summary = summary(s, RoundOutcome.Failed, cut);
        summary.message = message;
        RoundPods pods = new RoundPods(s.pods, round);
        trainResults(pods, s.status.roundShards).forEach((shard, t) -> actions.shardStatus().trained(s.namespace(), shard, s.name(), round, t));
        recordFailures(s, pods, cut.failed(), cut.stragglers());
        failRun(s, summary, "AggregationFailed", message);
    }

    private void failRun(RunSnapshot s, RoundSummary summary, String reason, String message) {
        finishRound(s, summary);
        actions.events().warning(s.run, "RoundFailed", message);
        actions.events().warning(s.run, "RunFailed", message);
        s.situation = Situation.of(Phase.Failed, reason, message);
    }

    /** Best adapter, rollback on regression and the early-stopping count, all from the primary eval loss. */
    private void applyEvaluation(RunSnapshot s, RoundSummary summary, AdapterRef adapter, AggregateResult result) {
        EvaluationSpec evaluation = s.run.getSpec().evaluation;
        FederatedRunStatus status = s.status;
        AdapterRef best = status.bestAdapter;
        Double loss = adapter.evalLoss;
        boolean regressed = best != null && best.evalLoss != null && loss != null
                && (loss > best.evalLoss * (1 + evaluation.regressionTolerance) || Boolean.TRUE.equals(result.regressed()));
        double minDelta = evaluation.earlyStopping != null ? evaluation.earlyStopping.minDelta : 0.0;
        boolean improved = best == null || best.evalLoss == null || (loss != null && loss < best.evalLoss - minDelta);
        status.roundsWithoutImprovement = improved ? 0 : (status.roundsWithoutImprovement == null ? 0 : status.roundsWithoutImprovement) + 1;
        if (best == null || (loss != null && (best.evalLoss == null || loss < best.evalLoss))) {
            status.bestAdapter = adapter;
        }
        if (regressed && Boolean.TRUE.equals(evaluation.rollbackOnRegression)) {
            summary.outcome = RoundOutcome.RolledBack;
            status.latestAdapter = best;
            actions.events().warning(s.run, "RolledBack", "round " + adapter.round + "'s global eval loss " + loss
                    + " is worse than the best " + best.evalLoss + " (round " + best.round + "); round " + (adapter.round + 1)
                    + " starts from round " + best.round + "'s adapter");
        } else {
            status.latestAdapter = adapter;
        }
    }

    private void finishRound(RunSnapshot s, RoundSummary summary) {
        FederatedRunStatus status = s.status;
        status.history.add(bounded(summary));
        while (status.history.size() > FederatedRunStatus.HISTORY_LIMIT) {
            status.history.remove(0);
        }
        status.completedRounds = status.currentRound;
        status.stage = Stage.Idle;
        status.roundShards = new ArrayList<>();
        if (status.shards != null) {
            status.shards.running = 0;
        }
        Duration took = Duration.between(Instant.parse(status.roundStartedAt), s.now);
        actions.metrics().roundFinished(s.namespace(), summary.outcome.name(), took.isNegative() ? Duration.ZERO : took);
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
        boolean cut = summary.participantCount > RoundSummary.NAMES_LIMIT || summary.refusedCount > RoundSummary.NAMES_LIMIT
                || summary.failedCount > RoundSummary.NAMES_LIMIT || summary.stragglerCount > RoundSummary.NAMES_LIMIT;
        summary.participants = first(summary.participants);
        summary.refused = first(summary.refused);
        summary.failed = first(summary.failed);
        summary.stragglers = first(summary.stragglers);
        if (cut) {
            summary.message = (summary.message == null ? "" : summary.message + "; ") + "shard lists name the first "
                    + RoundSummary.NAMES_LIMIT + " of each, the counts give the totals";
        }
        return summary;
    }

    private static <T> List<T> first(List<T> list) {
        return list.size() <= RoundSummary.NAMES_LIMIT ? list : new ArrayList<>(list.subList(0, RoundSummary.NAMES_LIMIT));
    }

    /** Shard names for messages and events: the first {@link RoundSummary#NAMES_LIMIT}, then how many more. */
    static String names(List<String> shards) {
        return shards.size() <= RoundSummary.NAMES_LIMIT ? shards.toString()
                : first(shards) + " and " + (shards.size() - RoundSummary.NAMES_LIMIT) + " more";
    }

    private void recordFailures(RunSnapshot s, RoundPods pods, List<String> failed, List<String> stragglers) {
        int round = s.status.currentRound;
        for (String shard : failed) {
            actions.shardStatus().failed(s.namespace(), shard, s.name(), round);
            actions.metrics().shardOutcome(s.namespace(), "Failed");
            actions.events().warning(s.run, "ShardFailed", "round " + round + ": shard " + shard + " failed for good"
                    + failureDetail(pods, List.of(shard)));
        }
        for (String shard : stragglers) {
            actions.shardStatus().failed(s.namespace(), shard, s.name(), round);
            actions.metrics().shardOutcome(s.namespace(), "Straggler");
        }
    }

    private static RoundSummary summary(RunSnapshot s, RoundOutcome outcome, RoundCut cut) {
        RoundSummary summary = new RoundSummary();
        summary.round = s.status.currentRound;
        summary.outcome = outcome;
        summary.failed = new ArrayList<>(cut.failed());
        summary.stragglers = new ArrayList<>(cut.stragglers());
        summary.startedAt = s.status.roundStartedAt;
        return summary;
    }

    private static String failureDetail(RoundPods pods, List<String> failed) {
        if (failed.isEmpty()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (String shard : first(failed)) {
            List<Pod> attempts = pods.trainerAttempts(shard);
            String why = attempts.isEmpty() ? "no trainer pod" : Optional.ofNullable(PodOutcome.of(attempts.get(attempts.size() - 1)).reason()).orElse("Unknown");
            parts.add(shard + " (" + why + ")");
        }
        return "; failed: " + String.join(", ", parts)
                + (failed.size() > parts.size() ? " and " + (failed.size() - parts.size()) + " more" : "");
    }

    private static Map<String, TrainResult> trainResults(RoundPods pods, List<String> shards) {
        Map<String, TrainResult> results = new HashMap<>();
        for (String shard : shards) {
            List<Pod> attempts = pods.trainerAttempts(shard);
            if (!attempts.isEmpty()) {
                PodOutcome outcome = PodOutcome.of(attempts.get(attempts.size() - 1));
                if (outcome.state() == PodOutcome.State.SUCCEEDED) {
                    results.put(shard, outcome.trainResult());
                }
            }
        }
        return results;
    }

    private static Instant aggregationStart(RoundPods pods) {
        String created = pods.aggregatorAttempts().get(0).getMetadata().getCreationTimestamp();
        return created == null ? null : Instant.parse(created);
    }

    private static Double seconds(String from, Instant to) {
        if (from == null || to == null) {
            return null;
        }
        return Math.max(0, Duration.between(Instant.parse(from), to).toMillis() / 1000.0);
    }

    private static Double mean(List<Double> values) {
        return values.isEmpty() ? null : values.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
    }
}
