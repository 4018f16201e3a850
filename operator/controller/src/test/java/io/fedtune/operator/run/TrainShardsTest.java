package io.fedtune.operator.run;

import io.fedtune.api.contract.FailureReason;
import static io.fedtune.operator.run.RoundWorld.T0;
import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The training step alone, on an in-memory world with a clock the test moves: backoff, permanent failures, timeout. */
class TrainShardsTest {

    private static RoundWorld training(String... shards) {
        RoundWorld w = new RoundWorld("t", 2, shards);
        w.run.getSpec().participation.retryBackoff = "10s";
        w.run.getSpec().participation.roundTimeout = "5m";
        w.reconcile(); // BetweenRounds: round 1 starts
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.BetweenRounds);
        assertThat(w.status.stage).isEqualTo(Stage.Training);
        assertThat(w.pods.created).isEmpty();
        w.reconcile(); // Training: one trainer per shard
        return w;
    }

    @Test
    void aFailedTrainerIsRetriedAfterItsBackoffDoubledPerAttemptCountedFromWhenItFinished() {
        RoundWorld w = training("a", "b");
        assertThat(w.pods.created).containsExactly(w.trainer(1, "a", 1), w.trainer(1, "b", 1));

        w.clock.advance(Duration.ofSeconds(3));
        w.failTrainer(1, "a", 1, FailureReason.StorageUnreachable); // finished at T0+3s: attempt 2 is due at T0+13s
        w.clock.advance(Duration.ofSeconds(5));
        RunSnapshot s = w.reconcile();
        assertThat(s.requeue()).contains(Duration.ofSeconds(5));
        assertThat(w.pods.created).hasSize(2);
        assertThat(w.status.shards.running).isEqualTo(2);

        w.clock.advance(Duration.ofMillis(4999));
        w.reconcile();
        assertThat(w.pods.created).hasSize(2);
        w.clock.advance(Duration.ofMillis(1));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.trainer(1, "a", 2));
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.ShardFailed);
        assertThat(w.counter("fedtune.shard.outcomes", "Retried")).isEqualTo(1);

        w.failTrainer(1, "a", 2, FailureReason.StorageUnreachable); // the second backoff is 20s
        w.clock.advance(Duration.ofSeconds(19));
        assertThat(w.reconcile().requeue()).contains(Duration.ofSeconds(1));
        w.clock.advance(Duration.ofSeconds(1));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.trainer(1, "a", 3));
    }

    @Test
    void aPermanentFailureIsNotRetriedAndRetriesStopAtMaxRetries() {
        RoundWorld w = training("a", "b");
        w.failTrainer(1, "a", 1, FailureReason.DataMalformed);
        w.clock.advance(Duration.ofSeconds(30)); // past its backoff, inside the round timeout
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 2));

        RoundWorld r = training("a", "b");
        r.run.getSpec().participation.maxRetries = 1;
        r.failTrainer(1, "a", 1, FailureReason.ContainerFailed);
        r.clock.advance(Duration.ofSeconds(10));
        r.reconcile();
        r.failTrainer(1, "a", 2, FailureReason.ContainerFailed);
        r.clock.advance(Duration.ofSeconds(60));
        r.succeedTrainer(1, "b", 1);
        r.reconcile();
        assertThat(r.pods.created).doesNotContain(r.trainer(1, "a", 3)).contains(r.aggregator(1, 1));
        assertThat(PodLabels.failedShards(r.pods.pods.get(r.aggregator(1, 1)))).containsExactly("a");
        assertThat(r.status.stage).isEqualTo(Stage.Aggregating);
    }

    @Test
    void theRoundTimeoutCutsStragglersExactlyAtTheDeadline() {
        RoundWorld w = training("a", "b", "c");
        w.succeedTrainer(1, "a", 1);
        w.succeedTrainer(1, "b", 1);
        w.clock.advance(Duration.ofMinutes(4));
        RunSnapshot s = w.reconcile();
        assertThat(s.requeue()).contains(Duration.ofMinutes(1)); // woken at the deadline, not before
        assertThat(w.pods.pods).doesNotContainKey(w.aggregator(1, 1));

        w.clock.advance(Duration.ofMinutes(1).minusMillis(1));
        w.reconcile();
        assertThat(w.pods.pods).doesNotContainKey(w.aggregator(1, 1));
        w.clock.advance(Duration.ofMillis(1));
        w.reconcile();
        var aggregation = w.pods.pods.get(w.aggregator(1, 1));
        assertThat(PodLabels.stragglerShards(aggregation)).containsExactly("c");
        assertThat(w.task(w.aggregator(1, 1)).updates()).extracting(u -> u.shard()).containsExactlyInAnyOrder("a", "b");
        assertThat(w.pods.deleted).containsExactly(w.trainer(1, "c", 1));
        assertThat(w.eventReasons()).contains(EventReason.ShardsCut);
        assertThat(w.status.shards.failed).isEqualTo(1);
    }

    @Test
    void fewerThanMinShardsFailsTheRunAndNamesEachShardsReason() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.minShards = 2;
        w.succeedTrainer(1, "a", 1);
        w.failTrainer(1, "b", 1, FailureReason.AccessDenied);
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.history).singleElement().satisfies(h -> assertThat(h.outcome).isEqualTo(RoundOutcome.Failed));
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo(ConditionReason.TooFewShards.name());
            assertThat(c.getMessage()).contains("1 of 2", "b (AccessDenied: scripted)");
        });
        assertThat(w.shardWrites).containsExactlyInAnyOrder("a trained r1", "b failed r1");
        assertThat(w.eventReasons()).contains(EventReason.ShardFailed, EventReason.RoundFailed, EventReason.RunFailed);
        assertThat(w.status.stage).isEqualTo(Stage.Idle);

        w.reconcile(); // and it stays failed, starting nothing
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Failed);
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.pods.pods).isEmpty();
    }

    @Test
    void aShardDeletedMidRoundCountsAsFailed() {
        RoundWorld w = training("a", "b");
        w.failTrainer(1, "b", 1, FailureReason.StorageUnreachable);
        w.shards.removeIf(s -> s.getMetadata().getName().equals("b"));
        w.succeedTrainer(1, "a", 1);
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(PodLabels.failedShards(w.pods.pods.get(w.aggregator(1, 1)))).containsExactly("b");
    }

    @Test
    void retriesThenSuccessLeaveTheFailedAttemptsAndTheirReasonsInHistory() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.maxRetries = 6;
        w.run.getSpec().participation.retryBackoff = "1s";
        w.run.getSpec().participation.roundTimeout = "1h";
        for (int attempt = 1; attempt <= 6; attempt++) {
            w.failTrainer(1, "a", attempt, attempt == 6 ? FailureReason.ContainerFailed : FailureReason.StorageUnreachable);
            w.clock.advance(Duration.ofMinutes(1));
            w.reconcile();
            assertThat(w.pods.created).contains(w.trainer(1, "a", attempt + 1));
        }
        w.succeedTrainer(1, "a", 7);
        w.succeedTrainer(1, "b", 1);
        w.reconcile();
        w.succeedAggregation(1, 1, 1.0, null);
        w.reconcile();

        var entry = w.status.history.get(0);
        assertThat(entry.outcome).isEqualTo(RoundOutcome.Completed);
        assertThat(entry.failedCount).isZero();
        assertThat(entry.failedAttempts).isEqualTo(6);
        assertThat(entry.failedAttemptReasons).containsExactly(java.util.Map.entry("StorageUnreachable", 5),
                java.util.Map.entry("ContainerFailed", 1));
        assertThat(entry.failedAttemptShards).containsExactly("a");
        assertThat(entry.failedAttemptShardCount).isEqualTo(1);
    }

    @Test
    void aRoundWithoutFailedAttemptsCountsNone() {
        RoundWorld w = training("a");
        w.succeedTrainer(1, "a", 1);
        w.reconcile();
        w.succeedAggregation(1, 1, 1.0, null);
        w.reconcile();
        var entry = w.status.history.get(0);
        assertThat(entry.failedAttempts).isZero();
        assertThat(entry.failedAttemptReasons).isEmpty();
        assertThat(entry.failedAttemptShardCount).isZero();
    }

    private static java.util.Optional<io.fabric8.kubernetes.api.model.Condition> storageCondition(RoundWorld w) {
        return io.fedtune.operator.status.Conditions.find(w.status.conditions, io.fedtune.api.v1alpha1.ConditionType.STORAGE_UNAVAILABLE);
    }

    @Test
    void storageFailuresAreNotChargedAgainstMaxRetriesAndTheirBackoffIsCappedAtAMinute() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.maxRetries = 0;
        w.succeedTrainer(1, "b", 1);
        assertThat(storageCondition(w)).as("no outage yet: no condition").isEmpty();

        // four storage failures in a row: retried after 10s, 20s, 40s, then 60s (the cap), never FAILED
        long[] backoffs = {10, 20, 40, 60};
        for (int attempt = 1; attempt <= 4; attempt++) {
            w.clock.advance(Duration.ofSeconds(1));
            w.failTrainer(1, "a", attempt, FailureReason.StorageUnreachable);
            RunSnapshot s = w.reconcile();
            assertThat(s.requeue()).as("attempt " + attempt).contains(Duration.ofSeconds(backoffs[attempt - 1]));
            assertThat(w.status.phase).isEqualTo(Phase.Running);
            assertThat(w.status.stage).isEqualTo(Stage.Training);
            assertThat(s.situation.message()).contains("after a storage failure, not counted against maxRetries");
            assertThat(storageCondition(w)).hasValueSatisfying(c -> {
                assertThat(c.getStatus()).isEqualTo("True");
                assertThat(c.getReason()).isEqualTo(ConditionReason.Unreachable.name());
                assertThat(c.getMessage()).contains("object storage at http://s3.storage:9000 is unreachable", "shard a")
                        .doesNotContain("run-storage");
            });
            w.clock.advance(Duration.ofSeconds(backoffs[attempt - 1]).minusMillis(1));
            w.reconcile();
            assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", attempt + 1));
            w.clock.advance(Duration.ofMillis(1));
            w.reconcile();
            assertThat(w.pods.created).last().isEqualTo(w.trainer(1, "a", attempt + 1));
        }
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.StorageUnavailable).doesNotContain(EventReason.StorageAvailable);
        w.run.setStatus(w.status);
        assertThat(io.fedtune.operator.argocd.ArgoHealth.of(w.run)).satisfies(h -> {
            assertThat(h.status()).isEqualTo("Degraded");
            assertThat(h.message()).startsWith("Unreachable: object storage at http://s3.storage:9000 is unreachable");
        });

        w.clock.advance(Duration.ofSeconds(5));
        w.succeedTrainer(1, "a", 5); // got past storage: the condition turns False, once
        w.reconcile();
        assertThat(w.status.stage).isEqualTo(Stage.Aggregating);
        assertThat(PodLabels.failedShards(w.pods.pods.get(w.aggregator(1, 1)))).isEmpty();
        assertThat(w.task(w.aggregator(1, 1)).updates()).extracting(u -> u.shard()).containsExactlyInAnyOrder("a", "b");
        assertThat(storageCondition(w)).hasValueSatisfying(c -> {
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo(ConditionReason.Reachable.name());
        });
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.StorageAvailable);
        w.run.setStatus(w.status);
        assertThat(io.fedtune.operator.argocd.ArgoHealth.of(w.run).status()).isEqualTo("Progressing");

        w.succeedAggregation(1, 1, 1.0, null);
        w.reconcile();
        var entry = w.status.history.get(0);
        assertThat(entry.outcome).isEqualTo(RoundOutcome.Completed);
        assertThat(entry.failedAttempts).isEqualTo(4);
        assertThat(entry.failedAttemptReasons).containsExactly(java.util.Map.entry("StorageUnreachable", 4));
        assertThat(storageCondition(w)).hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("False"));
    }

    @Test
    void theShardsOwnDataStorageOutIsChargedToTheShardAndLeavesTheRunsStorageConditionAlone() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.maxRetries = 0;
        w.failTrainer(1, "a", 1, FailureReason.DataUnreachable);
        w.succeedTrainer(1, "b", 1);
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 2)).contains(w.aggregator(1, 1));
        assertThat(PodLabels.failedShards(w.pods.pods.get(w.aggregator(1, 1)))).containsExactly("a");
        assertThat(storageCondition(w)).isEmpty();
    }

    @Test
    void aShardsOwnFailureAfterStorageFailuresIsChargedAndEndsItsRetries() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.maxRetries = 1;
        w.failTrainer(1, "a", 1, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        w.failTrainer(1, "a", 2, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(20));
        w.reconcile();
        w.failTrainer(1, "a", 3, FailureReason.ContainerFailed); // its first charged failure: one retry left, after 10s
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.trainer(1, "a", 4));
        assertThat(storageCondition(w)).hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("False"));
        w.failTrainer(1, "a", 4, FailureReason.ContainerFailed); // the second: past maxRetries 1
        w.clock.advance(Duration.ofMinutes(1));
        w.succeedTrainer(1, "b", 1);
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.trainer(1, "a", 5)).contains(w.aggregator(1, 1));
        assertThat(PodLabels.failedShards(w.pods.pods.get(w.aggregator(1, 1)))).containsExactly("a");
    }

    @Test
    void aStorageOutageDoesNotFailTheRoundBeforeTheDeadlineAndTheRoundTimeoutStillCutsIt() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.maxRetries = 0;
        w.run.getSpec().participation.minShards = 2;
        w.succeedTrainer(1, "b", 1);
        int attempt = 1;
        // today this ended the run TooFewShards at the first failure; now it waits for storage until the deadline
        while (true) {
            w.failTrainer(1, "a", attempt, FailureReason.StorageUnreachable);
            w.clock.advance(Duration.ofMinutes(1));
            w.reconcile();
            if (!w.status.phase.equals(Phase.Running)) {
                break;
            }
            assertThat(w.pods.created).last().isEqualTo(w.trainer(1, "a", ++attempt));
        }
        assertThat(w.clock.instant()).isEqualTo(T0.plus(Duration.ofMinutes(5)));
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo(ConditionReason.TooFewShards.name());
            assertThat(c.getMessage()).contains("1 of 2", "a (StorageUnreachable");
        });
        assertThat(storageCondition(w)).hasValueSatisfying(c -> assertThat(c.getStatus()).isEqualTo("True"));
        int attempts = attempt;
        assertThat(w.status.history).singleElement().satisfies(h -> {
            assertThat(h.failed).containsExactly("a");
            assertThat(h.failedAttemptReasons).containsExactly(java.util.Map.entry("StorageUnreachable", attempts));
        });
    }

    @Test
    void ownFailuresStillFailTheRoundForTooFewShardsAtOnce() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.maxRetries = 0;
        w.run.getSpec().participation.minShards = 2;
        w.succeedTrainer(1, "b", 1);
        w.failTrainer(1, "a", 1, FailureReason.ContainerFailed);
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.clock.instant()).isEqualTo(T0);
        assertThat(storageCondition(w)).isEmpty();
    }
}
