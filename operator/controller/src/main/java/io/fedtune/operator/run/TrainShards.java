package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.api.v1alpha1.ShardCounts;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.PodStart;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.Durations;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * {@link RoundState.Training}: keeps one trainer pod per selected shard going, retries failed ones after their backoff,
 * and when every shard is done (or the round timeout cuts the stragglers) hands the successful updates to one
 * aggregation pod. The aggregation pod's existence is what ends training: it carries the cut (failed and straggler
 * shards) in its annotations, so the decision survives a restart.
 */
final class TrainShards extends RoundStep<RoundState.Training> {
    TrainShards(RoundActions actions) {
        super(RoundState.Training.class, actions);
    }

    @Override
    void apply(RunSnapshot s, RoundState.Training state) {
        FederatedRunSpec spec = s.run.getSpec();
        int round = state.round();
        RoundPods pods = state.pods();
        Duration backoff = Durations.parse(spec.participation.retryBackoff);
        Instant deadline = Instant.parse(s.status.roundStartedAt).plus(Durations.parse(spec.participation.roundTimeout));
        PodStart start = Durations.podStart(spec.participation.startTimeout);
        boolean timedOut = !s.now.isBefore(deadline);

        List<String> succeeded = new ArrayList<>();
        List<String> failed = new ArrayList<>();
        List<String> stragglers = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        int waiting = 0;
        int onStorage = 0;
        Instant wake = deadline;
        for (String shardName : s.status.roundShards) {
            List<Pod> attempts = pods.trainerAttempts(shardName);
            Attempts a = Attempts.of(attempts, spec.participation.maxRetries, backoff, s.now, start);
            if (a.storageFailed() && !timedOut) {
                onStorage++;
            }
            switch (a.kind()) {
                case SUCCEEDED -> succeeded.add(shardName);
                case FAILED -> {
                    failed.add(shardName);
                    problems.add(RoundCut.why(shardName, a.last()));
                }
                case RUNNING -> {
                    if (timedOut) {
                        stragglers.add(shardName);
                    } else {
                        waiting++;
                        Instant recheck = start.recheckAt(attempts.get(attempts.size() - 1)).orElse(wake);
                        wake = recheck.isBefore(wake) ? recheck : wake;
                    }
                }
                case BACKOFF -> {
                    if (timedOut) {
                        failed.add(shardName);
                    } else {
                        waiting++;
                        wake = a.retryAt().isBefore(wake) ? a.retryAt() : wake;
                    }
                }
                case CREATE -> {
                    if (timedOut) {
                        (a.last() == null ? stragglers : failed).add(shardName);
                    } else if (startAttempt(s, shardName, a, attempts)) {
                        waiting++;
                    } else {
                        failed.add(shardName);
                    }
                }
            }
        }
        ShardCounts counts = s.status.shards != null ? s.status.shards : new ShardCounts();
        counts.selected = s.status.roundShards.size();
        counts.running = timedOut ? 0 : waiting;
        counts.succeeded = succeeded.size();
        counts.failed = failed.size() + stragglers.size();
        s.status.shards = counts;

        if (waiting > 0 && !timedOut) {
            s.situation = Situation.running(ConditionReason.Training, "round " + round + ": " + succeeded.size() + " of "
                    + counts.selected + " shard(s) trained, " + waiting + " training or waiting to retry"
                    + (onStorage > 0 ? " (" + onStorage + " after a storage failure, not counted against maxRetries)" : ""))
                    .withShardFailures(problems.isEmpty() ? null : RoundHistory.names(problems));
            s.requeueAfter(Duration.between(s.now, wake));
        } else if (succeeded.size() < spec.participation.minShards) {
            new RoundEnding(actions).tooFewShards(s, pods, succeeded, RoundCut.of(failed, stragglers, pods, s.now, start));
        } else {
            startAggregation(s, pods, succeeded, RoundCut.of(failed, stragglers, pods, s.now, start));
        }
        StorageOutage.note(actions, s, pods);
    }

    private boolean startAttempt(RunSnapshot s, String shardName, Attempts a, List<Pod> earlier) {
        var shard = s.shard(shardName);
        if (shard.isEmpty()) {
            return false;
        }
        if (a.last() != null) {
            actions.metrics().shardOutcome(s.namespace(), "Retried");
            actions.events().record(s.run, EventReason.ShardFailed, "round " + s.status.currentRound + ": shard " + shardName
                    + " attempt " + (a.attempt() - 1) + " failed (" + a.last().reason() + "): " + a.last().message()
                    + "; starting attempt " + a.attempt());
        }
        actions.pods().create(actions.trainers().build(s.run, s.status, shard.get(), s.status.currentRound, a.attempt()));
        cutSuperseded(actions, earlier);
        return true;
    }

    /**
     * Earlier attempts that never started (stuck) are deleted once the next one exists: until then such a pod is the
     * record of its attempt's failure (pods are the truth of attempts); after it nothing needs it, and it must not start late.
     */
    static void cutSuperseded(RoundActions actions, List<Pod> earlier) {
        earlier.stream().filter(p -> !PodOutcome.of(p).finished()).forEach(actions.pods()::delete);
    }

    /**
     * The best's score for the aggregator's informational regressed verdict, when it is in the metric this round ranks
     * by (the primary set's): a best ranked by another metric (the eval sets changed mid-run) or by the shards' local
     * losses (no eval sets then) compares with nothing the aggregator measures.
     */
    static Double bestEvalScore(FederatedRunSpec spec, io.fedtune.api.v1alpha1.AdapterRef best) {
        if (best == null || spec.evaluation.datasets == null || spec.evaluation.datasets.isEmpty()) {
            return null;
        }
        return spec.evaluation.datasets.get(0).rankingMetric().name().equals(AdapterChoice.metric(best)) ? AdapterChoice.score(best) : null;
    }

    private void startAggregation(RunSnapshot s, RoundPods pods, List<String> succeeded, RoundCut cut) {
        FederatedRunSpec spec = s.run.getSpec();
        int round = s.status.currentRound;
        List<ShardUpdate> updates = new ArrayList<>();
        for (String shardName : succeeded) {
            List<Pod> attempts = pods.trainerAttempts(shardName);
            Pod latest = attempts.get(attempts.size() - 1);
            TrainResult result = PodOutcome.of(latest).trainResult();
            ClientShard shard = s.shard(shardName).orElse(null);
            double weight = shard != null ? shard.getSpec().weight : 1.0;
            int rank = result.rank() != null ? result.rank()
                    : TrainerPodBuilder.rankFor(spec.lora, shard != null ? shard.getSpec().loraRank : null);
            String adapter = result.adapter() != null ? result.adapter()
                    : TrainerPodBuilder.layout(s.run).shardAdapter(round, shardName, PodLabels.attempt(latest));
            updates.add(new ShardUpdate(shardName, adapter, result.sha256(), result.samples() == null ? 0 : result.samples(), weight, rank));
        }
        var layout = TrainerPodBuilder.layout(s.run);
        int eligible = s.status.shards.eligible != null ? Math.max(s.status.shards.eligible, s.status.roundShards.size())
                : s.status.roundShards.size();
        AggregateTask task = new AggregateTask(s.name(), s.namespace(), round, 1,
                new StorageRef(spec.storage.endpoint, spec.storage.region), spec.baseModel.uri, spec.baseModel.sha256,
                ModelFile.sha256ByName(s.status.baseModel),
                s.status.latestAdapter != null ? s.status.latestAdapter.uri : null,
                s.status.latestAdapter != null ? s.status.latestAdapter.sha256 : null,
                bestEvalScore(spec, s.status.bestAdapter),
                updates, spec.lora, spec.aggregation, layout.optimizerState(), s.status.optimizerStateSha256, spec.evaluation.datasets,
                spec.training.maxSequenceLength, spec.training.seed,
                (double) s.status.roundShards.size() / Math.max(1, eligible), layout.globalAdapter(round));
        AggregateRound.start(actions, s.run, task, cut);
        pods.unfinishedTrainers().forEach(actions.pods()::delete);
        if (!cut.stragglers().isEmpty()) {
            actions.events().record(s.run, EventReason.ShardsCut, "round " + round + ": the round timeout ("
                    + spec.participation.roundTimeout + ") cut " + RoundHistory.names(cut.stragglers()));
        }
        s.movedTo(RoundState.Kind.Aggregating);
        s.situation = Situation.running(ConditionReason.Aggregating, "round " + round + ": aggregating " + updates.size() + " update(s)");
    }
}
