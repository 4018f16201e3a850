package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.ServerAttempts;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * {@link RoundState.Aggregating}: waits for the round's aggregation pod, retries a failed one with the very same task
 * after its backoff, and hands the result to the round's record. Never creates a pod whose attempt already exists.
 */
final class AggregateRound extends RoundStep<RoundState.Aggregating> {
    private final RoundEnding ending = new RoundEnding(actions);

    AggregateRound(RoundActions actions) {
        super(RoundState.Aggregating.class, actions);
    }

    @Override
    void apply(RunSnapshot s, RoundState.Aggregating state) {
        int round = state.round();
        List<Pod> attempts = state.pods().aggregatorAttempts();
        Pod latest = attempts.get(attempts.size() - 1);
        state.pods().unfinishedTrainers().forEach(actions.pods()::delete);
        ServerAttempts server = ServerAttempts.of(attempts, s.run.getSpec().participation, s.now);
        Attempts a = server.attempts();
        switch (a.kind()) {
            case RUNNING -> {
                s.situation = Situation.running(ConditionReason.Aggregating, "round " + round + ": aggregation attempt "
                        + a.attempt() + " running");
                server.recheckAt(latest).ifPresent(at -> s.requeueAfter(Duration.between(s.now, at)));
            }
            case BACKOFF -> {
                s.situation = Situation.running(ConditionReason.AggregationRetryBackoff, "round " + round + ": aggregation attempt "
                        + a.attempt() + " failed (" + a.last().reason() + "); retrying at " + a.retryAt());
                s.requeueAfter(Duration.between(s.now, server.wakeAt()));
            }
            case CREATE -> retry(s, attempts, a, state.cut());
            case FAILED -> {
                actions.metrics().aggregationFinished(s.namespace(), "Failed", duration(latest));
                ending.aggregationFailed(s, state.pods(), a, state.cut());
            }
            case SUCCEEDED -> {
                actions.metrics().aggregationFinished(s.namespace(), "Succeeded", duration(latest));
                ending.completed(s, state.pods(), latest, state.cut());
            }
        }
        StorageOutage.note(actions, s, state.pods());
    }

    private void retry(RunSnapshot s, List<Pod> attempts, Attempts a, RoundCut cut) {
        actions.metrics().aggregationFinished(s.namespace(), "Failed", duration(attempts.get(attempts.size() - 1)));
        AggregateTask task = task(actions.pods(), attempts.get(0))
                .orElseThrow(() -> new IllegalStateException("aggregation pod " + attempts.get(0).getMetadata().getName() + " has no task"))
                .withAttempt(a.attempt());
        start(actions, s.run, task, cut);
        TrainShards.cutSuperseded(actions, attempts);
        actions.events().record(s.run, EventReason.AggregationFailed, "round " + task.round() + ": aggregation attempt "
                + (a.attempt() - 1) + " failed (" + a.last().reason() + "): " + a.last().message() + "; starting attempt " + a.attempt());
        s.situation = Situation.running(ConditionReason.Aggregating, "round " + task.round() + ": aggregation attempt "
                + a.attempt() + " started");
    }

    /** Creates an aggregation attempt: its task ConfigMap, then the pod (annotated with the round's cut) that mounts it. */
    static void start(RoundActions actions, FederatedRun run, AggregateTask task, RoundCut cut) {
        AggregationPodBuilder.AggregationPod attempt = actions.aggregators().build(run, task);
        cut.annotate(attempt.pod());
        actions.pods().create(attempt.task());
        actions.pods().create(attempt.pod());
    }

    /** The task an aggregation pod was started with, read back from its ConfigMap. */
    static Optional<AggregateTask> task(RunPods pods, Pod pod) {
        Optional<ConfigMap> configMap = AggregationPodBuilder.taskConfigMap(pod)
                .flatMap(name -> pods.configMap(pod.getMetadata().getNamespace(), name));
        return AggregationPodBuilder.taskOf(pod, configMap);
    }

    static Duration duration(Pod pod) {
        PodOutcome outcome = PodOutcome.of(pod);
        String created = pod.getMetadata().getCreationTimestamp();
        if (created == null || outcome.finishedAt() == null || Instant.EPOCH.equals(outcome.finishedAt())) {
            return Duration.ZERO;
        }
        Duration d = Duration.between(Instant.parse(created), outcome.finishedAt());
        return d.isNegative() ? Duration.ZERO : d;
    }
}
