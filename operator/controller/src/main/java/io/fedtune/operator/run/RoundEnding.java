package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.Refusal;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.LocalEval;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RefusedUpdate;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.DeviceUse;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.status.Situation;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * How a round ends: completed (its history entry, the adapter choice, each shard's part), or failed, which fails the
 * run.
 *
 * <p>A round without minShards successful updates fails the run (reason TooFewShards) rather than being retried: when
 * that many shards cannot deliver, the cause is almost always structural (a wrong Secret, data or image) and a repeat
 * would burn every site's GPUs on the same failure. The failed round stays in history with each shard's reason; the
 * adapters of earlier rounds stay valid.
 */
final class RoundEnding {
    private final RoundActions actions;
    private final ShardResults shards;

    RoundEnding(RoundActions actions) {
        this.actions = actions;
        this.shards = new ShardResults(actions);
    }

    void completed(RunSnapshot s, RoundPods pods, Pod aggregation, RoundCut cut) {
        int round = s.status.currentRound;
        AggregateResult result = PodOutcome.of(aggregation).aggregateResult();
        // the task only fills gaps of a short result; without it (its ConfigMap deleted by hand) fall back to the pods
        Optional<AggregateTask> task = AggregateRound.task(actions.pods(), aggregation);
        Map<String, TrainResult> trained = ShardResults.trained(pods, s.status.roundShards);
        Set<String> refusedShards = new HashSet<>();
        RoundSummary summary = RoundHistory.entry(s, RoundOutcome.Completed, cut, pods);
        for (Refusal r : Optional.ofNullable(result.refused()).orElse(List.of())) {
            summary.refused.add(new RefusedUpdate(r.shard(), r.reason(), r.message()));
            refusedShards.add(r.shard());
        }
        summary.participants = result.accepted() != null ? new ArrayList<>(result.accepted())
                : task.map(t -> t.updates().stream().map(ShardUpdate::shard)).orElseGet(() -> trained.keySet().stream().sorted())
                        .filter(n -> !refusedShards.contains(n)).toList();
        summary.meanTrainLoss = RoundHistory.mean(summary.participants.stream().map(trained::get)
                .filter(t -> t != null && t.trainLoss() != null).map(TrainResult::trainLoss).toList());
        Double loss = result.evalLoss() != null ? result.evalLoss() : meanLossAfter(summary.participants, trained);
        Score score = Score.of(result, loss, s.run.getSpec().evaluation);
        summary.globalEvalLoss = loss;
        summary.evalMetric = score.metric();
        summary.globalEvalScore = score.value();
        if (result.evalLosses() != null) {
            summary.evalLosses.putAll(result.evalLosses());
        }
        summary.evalScores = RoundHistory.evalScores(result.evalScores(), s.run.getSpec().evaluation.datasets);
        // as the participants' names: the first NAMES_LIMIT (RoundHistory.bounded)
        summary.localEvals = new ArrayList<>();
        for (String shard : summary.participants.stream().limit(RoundSummary.NAMES_LIMIT).toList()) {
            TrainResult t = trained.get(shard);
            if (t != null && t.evalMetric() != null && (t.evalBefore() != null || t.evalAfter() != null)) {
                summary.localEvals.add(new LocalEval(shard, t.evalMetric(), t.evalBefore(), t.evalAfter()));
            }
        }
        summary.epsilon = result.epsilon();
        DeviceUse.count(summary, trained.values());
        summary.aggregationDevice = DeviceUse.of(result.device(), result.precision());
        summary.trainingSeconds = RoundHistory.seconds(s.status.roundStartedAt, aggregationStart(pods));
        summary.aggregationSeconds = result.seconds() != null ? result.seconds() : AggregateRound.duration(aggregation).toMillis() / 1000.0;

        AdapterRef adapter = new AdapterRef(result.adapter() != null ? result.adapter()
                : task.map(AggregateTask::output).orElseGet(() -> TrainerPodBuilder.layout(s.run).globalAdapter(round)), round, result.sha256(), loss);
        adapter.configSha256 = result.configSha256();
        adapter.evalMetric = score.metric();
        adapter.evalScore = score.value();
        AdapterRef bestBefore = s.status.bestAdapter;
        // the aggregator's regressed verdict counts only for a round without a score: the operator judges the rest (AdapterChoice)
        AdapterChoice choice = AdapterChoice.of(s.run.getSpec().evaluation, s.status, adapter, result.regressed());
        choice.applyTo(s.status);
        s.status.optimizerStateSha256 = result.optimizerStateSha256();
        if (choice.rolledBack()) {
            summary.outcome = RoundOutcome.RolledBack;
            actions.events().record(s.run, EventReason.RolledBack, "round " + round + (score.value() != null
                    ? "'s global " + score.describe() : ", which the aggregator marked as regressed,") + " is worse than the best "
                    + AdapterChoice.metric(bestBefore) + " " + Score.format(AdapterChoice.score(bestBefore))
                    + " (round " + bestBefore.round + ") beyond the tolerance " + s.run.getSpec().evaluation.regressionTolerance
                    + "; round " + (round + 1) + " starts from round " + bestBefore.round + "'s adapter");
        }
        summary.message = summary.participants.size() + " update(s) aggregated" + (summary.refused.isEmpty() ? "" : ", "
                + summary.refused.size() + " refused") + (choice.rolledBack() ? "; regressed, rolled back" : "")
                + RoundHistory.failureDetail(pods, cut.failed(), cut);

        shards.refused(s, summary.refused);
        Set<String> aggregated = new HashSet<>(trained.keySet());
        aggregated.removeAll(refusedShards);
        shards.trained(s, trained, aggregated);
        shards.failed(s, pods, cut);
        RoundHistory.record(s, summary, actions.metrics());
        actions.events().record(s.run, EventReason.RoundFinished, "round " + round + " " + summary.outcome + ": " + summary.message
                + (score.value() != null ? ", global " + score.describe() + score.where() : ""));
        AdapterRef best = s.status.bestAdapter;
        s.situation = Situation.running(ConditionReason.RoundFinished, "round " + round + " recorded"
                + (score.value() != null ? ": global " + score.describe() : "")
                + (best != null && AdapterChoice.score(best) != null ? "; best " + AdapterChoice.metric(best) + " "
                        + Score.format(AdapterChoice.score(best)) + " (round " + best.round + ")" : ""));
    }

    void tooFewShards(RunSnapshot s, RoundPods pods, List<String> succeeded, RoundCut cut) {
        int round = s.status.currentRound;
        String message = "round " + round + ": " + succeeded.size() + " of " + s.status.roundShards.size()
                + " shard(s) trained successfully, spec.participation.minShards is " + s.run.getSpec().participation.minShards
                + RoundHistory.failureDetail(pods, cut.failed(), cut)
                + (cut.stragglers().isEmpty() ? "" : "; cut by the round timeout: " + RoundHistory.names(cut.stragglers()));
        Map<String, TrainResult> trained = ShardResults.trained(pods, succeeded);
        shards.trained(s, trained, Set.of());
        shards.failed(s, pods, cut);
        pods.latestTrainers().forEach(actions.pods()::delete);
        failRun(s, pods, cut, trained, ConditionReason.TooFewShards, message);
    }

    void aggregationFailed(RunSnapshot s, RoundPods pods, Attempts attempts, RoundCut cut) {
        String message = "round " + s.status.currentRound + ": aggregation failed after " + attempts.attempt() + " attempt(s) ("
                + attempts.last().reason() + "): " + attempts.last().message();
        Map<String, TrainResult> trained = ShardResults.trained(pods, s.status.roundShards);
        shards.trained(s, trained, Set.of());
        shards.failed(s, pods, cut);
        failRun(s, pods, cut, trained, ConditionReason.AggregationFailed, message);
    }

    private void failRun(RunSnapshot s, RoundPods pods, RoundCut cut, Map<String, TrainResult> trained, ConditionReason reason, String message) {
        RoundSummary summary = RoundHistory.entry(s, RoundOutcome.Failed, cut, pods);
        summary.message = message;
        DeviceUse.count(summary, trained.values());
        RoundHistory.record(s, summary, actions.metrics());
        actions.events().record(s.run, EventReason.RoundFailed, message);
        actions.events().record(s.run, EventReason.RunFailed, message);
        s.situation = Situation.of(Phase.Failed, reason, message);
    }

    private static Double meanLossAfter(List<String> participants, Map<String, TrainResult> trained) {
        return RoundHistory.mean(participants.stream().map(trained::get).filter(t -> t != null && t.evalLossAfter() != null)
                .map(TrainResult::evalLossAfter).toList());
    }

    /**
     * The round's primary score: the aggregate's value of its ranking metric on the primary eval set; an aggregation
     * with no score (no eval sets; or an older image, which reports only the eval loss, or a metric this operator does
     * not know) is ranked by its loss: the primary eval loss, else the mean of the participants' local losses after
     * training.
     */
    record Score(String metric, Double value, String where) {
        static Score of(AggregateResult result, Double loss, io.fedtune.api.v1alpha1.EvaluationSpec evaluation) {
            String primary = evaluation.datasets == null || evaluation.datasets.isEmpty() ? "the primary set"
                    : evaluation.datasets.get(0).name;
            if (result.evalScore() != null && EvalMetric.named(result.evalMetric()) != null) {
                return new Score(result.evalMetric(), result.evalScore(), " on " + primary);
            }
            return new Score(loss != null ? EvalMetric.Loss.name() : null, loss,
                    result.evalLoss() != null ? " on " + primary : " (mean of the shards' local losses)");
        }

        String describe() {
            return metric + " " + format(value);
        }

        static String format(Double value) {
            return value == null ? "none" : String.format(Locale.ROOT, "%.4f", value);
        }
    }

    private static Instant aggregationStart(RoundPods pods) {
        String created = pods.aggregatorAttempts().get(0).getMetadata().getCreationTimestamp();
        return created == null ? null : Instant.parse(created);
    }
}
