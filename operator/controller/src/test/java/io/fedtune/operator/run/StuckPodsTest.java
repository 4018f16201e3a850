package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Pods that never start: the kubelet cannot start the container (image pull, invalid image, container config) or the
 * scheduler finds no node. They are cut, count as failed attempts (retried with backoff unless the reason is
 * permanent) and are reported with the kubelet's reason and message.
 */
class StuckPodsTest {
    private static final String PULL = "Back-off pulling image \"registry.example/trainer:nope\"";

    private static RoundWorld training(String... shards) {
        RoundWorld w = new RoundWorld("s", 2, shards);
        w.run.getSpec().participation.retryBackoff = "10s";
        w.run.getSpec().participation.roundTimeout = "1h";
        w.run.getSpec().participation.startTimeout = "10m";
        w.reconcile(); // round 1 starts
        w.reconcile(); // trainer pods
        return w;
    }

    @Test
    void aTrainerInImagePullBackOffIsCutAfterTheGraceRetriedAfterItsBackoffAndReportedWithTheKubeletsMessage() {
        RoundWorld w = training("a", "b");
        w.waiting(w.trainer(1, "a", 1), "ImagePullBackOff", PULL);

        w.clock.advance(Duration.ofSeconds(30)); // inside the grace: ErrImagePull and ImagePullBackOff still alternate
        RunSnapshot s = w.reconcile();
        assertThat(w.pods.pods).containsKey(w.trainer(1, "a", 1));
        assertThat(s.requeue()).contains(Duration.ofSeconds(30)); // looked at again when the grace ends
        w.waiting(w.trainer(1, "a", 1), "ErrImagePull", "rpc error: not found");

        w.clock.advance(Duration.ofSeconds(30)); // the grace is over: failed at T0+60s, attempt 2 due at T0+70s
        s = w.reconcile();
        assertThat(s.requeue()).contains(Duration.ofSeconds(10));
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 2));
        w.waiting(w.trainer(1, "a", 1), "ImagePullBackOff", PULL);

        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.trainer(1, "a", 2));
        assertThat(w.pods.deleted).containsExactly(w.trainer(1, "a", 1)); // the stuck attempt, once the next one exists
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.ShardFailed);
            assertThat(e.message()).contains("attempt 1 failed (ImagePullFailed)").contains(PULL).contains("starting attempt 2");
        });
        assertThat(w.counter("fedtune.shard.outcomes", "Retried")).isEqualTo(1);
    }

    @Test
    void anInvalidImageNameIsPermanentAndTheRoundGoesOnWithoutTheShard() {
        RoundWorld w = training("a", "b");
        w.waiting(w.trainer(1, "a", 1), "InvalidImageName", "Failed to apply default image tag \"Trainer:1\": invalid reference format");
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 2));
        assertThat(w.status.shards.failed).isEqualTo(1);
        var degraded = Fixtures.condition(runWithStatus(w), ConditionType.DEGRADED).orElseThrow();
        assertThat(degraded.getReason()).isEqualTo("ShardsFailed");
        assertThat(degraded.getMessage()).contains("a (ImageInvalid: the container cannot start: InvalidImageName: Failed to apply");

        w.succeedTrainer(1, "b", 1);
        w.reconcile();
        assertThat(w.pods.created).contains(w.aggregator(1, 1));
        assertThat(w.pods.deleted).contains(w.trainer(1, "a", 1)); // cut when training ended
        assertThat(PodLabels.failedShards(w.pods.pods.get(w.aggregator(1, 1)))).containsExactly("a");
        w.succeedAggregation(1, 1, 2.0, null);
        w.reconcile();
        RoundSummary entry = w.status.history.get(0);
        assertThat(entry.failed).containsExactly("a");
        assertThat(entry.message).contains("failed: a (ImageInvalid: the container cannot start: InvalidImageName");
        assertThat(w.events).anySatisfy(e -> assertThat(e.message()).contains("shard a failed for good").contains("ImageInvalid"));
    }

    @Test
    void aContainerConfigErrorIsPermanent() {
        RoundWorld w = training("a");
        w.waiting(w.trainer(1, "a", 1), "CreateContainerConfigError", "secret \"a-data\" not found");
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 2));
        assertThat(w.status.phase).isEqualTo(Phase.Failed); // minShards 1, none trained
        var failed = Fixtures.condition(runWithStatus(w), ConditionType.FAILED).orElseThrow();
        assertThat(failed.getReason()).isEqualTo("TooFewShards");
        assertThat(failed.getMessage()).contains("a (ContainerConfigInvalid: the container cannot start: CreateContainerConfigError: "
                + "secret \"a-data\" not found)");
        assertThat(FailureReason.ContainerConfigInvalid.permanent()).isTrue();
    }

    @Test
    void anUnschedulableTrainerWaitsForTheStartTimeoutThenIsRetried() {
        RoundWorld w = training("a", "b");
        String why = "0/4 nodes are available: 4 Insufficient nvidia.com/gpu.";
        w.unschedulable(w.trainer(1, "a", 1), why);

        w.clock.advance(Duration.ofMinutes(5)); // an autoscaler may still add a node
        RunSnapshot s = w.reconcile();
        assertThat(s.requeue()).contains(Duration.ofMinutes(5));
        assertThat(w.status.shards.failed).isZero();

        w.clock.advance(Duration.ofMinutes(5)); // startTimeout: failed at T0+10m
        w.reconcile();
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(w.pods.created).contains(w.trainer(1, "a", 2));
        assertThat(w.pods.deleted).contains(w.trainer(1, "a", 1));
        assertThat(w.events).anySatisfy(e -> assertThat(e.message()).contains("(PodUnschedulable): not scheduled within "
                + "spec.participation.startTimeout (10m): " + why));
    }

    @Test
    void aPodPendingPastTheStartTimeoutForAnotherReasonFailsWithStartTimeout() {
        RoundWorld w = training("a");
        w.run.getSpec().participation.maxRetries = 0;
        w.waiting(w.trainer(1, "a", 1), "ContainerCreating", null);
        w.clock.advance(Duration.ofMinutes(10));
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.history.get(0).message).contains("a (StartTimeout: still Pending after spec.participation.startTimeout "
                + "(10m): ContainerCreating)");
    }

    @Test
    void anAggregationPodThatCannotPullItsImageIsRetriedThenFailsTheRun() {
        RoundWorld w = training("a");
        w.run.getSpec().participation.maxRetries = 1;
        w.succeedTrainer(1, "a", 1);
        w.reconcile();
        assertThat(w.status.stage).isEqualTo(Stage.Aggregating);
        w.waiting(w.aggregator(1, 1), "ImagePullBackOff", PULL);

        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.status.conditions).anySatisfy(c -> assertThat(c.getReason()).isEqualTo("AggregationRetryBackoff"));
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(w.pods.created).contains(w.aggregator(1, 2));
        assertThat(w.pods.deleted).contains(w.aggregator(1, 1));
        assertThat(w.pods.configMaps).containsKey(w.aggregator(1, 2));
        assertThat(w.task(w.aggregator(1, 2)).attempt()).isEqualTo(2);

        w.waiting(w.aggregator(1, 2), "ImagePullBackOff", PULL);
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        var failed = Fixtures.condition(runWithStatus(w), ConditionType.FAILED).orElseThrow();
        assertThat(failed.getReason()).isEqualTo("AggregationFailed");
        assertThat(failed.getMessage()).contains("aggregation failed after 2 attempt(s) (ImagePullFailed)").contains(PULL);
    }

    @Test
    void aRestartedOperatorJudgesAStuckPodTheSameWay() {
        RoundWorld w = training("a", "b");
        w.waiting(w.trainer(1, "a", 1), "ImagePullBackOff", PULL);
        w.clock.advance(Duration.ofSeconds(65));
        w.reconcile(); // failed at T0+60s, backoff until T0+70s
        w.restart();
        RunSnapshot s = w.reconcile();
        assertThat(s.requeue()).contains(Duration.ofSeconds(5));
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 2));
    }

    private static io.fedtune.api.v1alpha1.FederatedRun runWithStatus(RoundWorld w) {
        w.run.setStatus(w.status);
        return w.run;
    }
}
