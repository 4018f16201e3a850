package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.round.Attempts;
import io.fedtune.operator.round.Durations;
import io.fedtune.operator.round.RoundPods;
import io.fedtune.operator.status.Situation;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The aggregation stage: waits for the round's aggregation pod, retries a failed one with the very same task after its
 * backoff, and hands the result to the round's record. Never creates a pod whose attempt already exists.
 */
final class AggregateRound implements RoundStep {
    private final RoundActions actions;
    private final RoundEnding ending;

    AggregateRound(RoundActions actions, RoundEnding ending) {
        this.actions = actions;
        this.ending = ending;
    }

    @Override
    public Next apply(RunSnapshot s) {
        int round = s.status.currentRound;
        RoundPods pods = new RoundPods(s.pods, round);
        List<Pod> attempts = pods.aggregatorAttempts();
        removeStragglers(pods);
        s.status.stage = Stage.Aggregating;
        var participation = s.run.getSpec().participation;
        Attempts a = Attempts.of(attempts, participation.maxRetries, Durations.parse(participation.retryBackoff), s.now);
        RoundCut cut = RoundCut.of(attempts.get(0));
        switch (a.kind()) {
            case RUNNING -> s.situation = Situation.running("Aggregating", "round " + round + ": aggregation attempt "
                    + a.attempt() + " running");
            case BACKOFF -> {
                s.situation = Situation.running("AggregationRetryBackoff", "round " + round + ": aggregation attempt "
                        + a.attempt() + " failed (" + a.last().reason() + "); retrying at " + a.retryAt());
                s.requeueAfter(Duration.between(s.now, a.retryAt()));
            }
            case CREATE -> retry(s, attempts, a, cut);
            case FAILED -> {
                actions.metrics().aggregationFinished(s.namespace(), "Failed", duration(attempts.get(attempts.size() - 1)));
                ending.aggregationFailed(s, a, cut);
            }
            case SUCCEEDED -> {
                Pod pod = attempts.get(attempts.size() - 1);
                actions.metrics().aggregationFinished(s.namespace(), "Succeeded", duration(pod));
                ending.completed(s, pods, pod, cut);
            }
        }
        return Next.STOP;
    }

    private void retry(RunSnapshot s, List<Pod> attempts, Attempts a, RoundCut cut) {
        Pod previous = attempts.get(attempts.size() - 1);
        actions.metrics().aggregationFinished(s.namespace(), "Failed", duration(previous));
        AggregateTask first = task(actions.pods(), attempts.get(0))
                .orElseThrow(() -> new IllegalStateException("aggregation pod " + attempts.get(0).getMetadata().getName() + " has no task"));
        AggregateTask task = new AggregateTask(first.run(), first.namespace(), first.round(), a.attempt(), first.storage(),
                first.baseModel(), first.baseModelSha256(), first.previousGlobal(), first.bestEvalLoss(), first.updates(),
                first.lora(), first.aggregation(), first.optimizerState(), first.evalSets(), first.maxSequenceLength(),
                first.seed(), first.participationRate(), first.output());
        start(actions, s.run, task, cut);
        actions.events().warning(s.run, "AggregationFailed", "round " + task.round() + ": aggregation attempt "
                + (a.attempt() - 1) + " failed (" + a.last().reason() + "): " + a.last().message() + "; starting attempt " + a.attempt());
        s.situation = Situation.running("Aggregating", "round " + task.round() + ": aggregation attempt " + a.attempt() + " started");
    }

    /** Creates an aggregation attempt: its task ConfigMap, then the pod (annotated with the round's cut) that mounts it. */
    static void start(RoundActions actions, FederatedRun run, AggregateTask task, RoundCut cut) {
        AggregationPodBuilder.AggregationPod attempt = actions.aggregators().build(run, task);
        RoundCut.annotate(attempt.pod(), cut.failed(), cut.stragglers());
        actions.pods().create(attempt.task());
        actions.pods().create(attempt.pod());
    }

    /** The task an aggregation pod was started with, read back from its ConfigMap. */
    static Optional<AggregateTask> task(RunPods pods, Pod pod) {
        Optional<ConfigMap> configMap = AggregationPodBuilder.taskConfigMap(pod)
                .flatMap(name -> pods.configMap(pod.getMetadata().getNamespace(), name));
        return AggregationPodBuilder.taskOf(pod, configMap);
    }

    private void removeStragglers(RoundPods pods) {
        for (List<Pod> trainer : pods.allTrainerAttempts()) {
            Pod latest = trainer.get(trainer.size() - 1);
            if (!PodOutcome.of(latest).finished()) {
                actions.pods().delete(latest);
            }
        }
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
