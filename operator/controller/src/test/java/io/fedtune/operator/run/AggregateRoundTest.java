package io.fedtune.operator.run;

import io.fedtune.api.contract.FailureReason;
import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.events.EventReason;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The aggregation step alone: record a round, retry with the same task after its backoff, fail the run. */
class AggregateRoundTest {

    private static RoundWorld aggregating() {
        RoundWorld w = new RoundWorld("g", 2, "a", "b");
        w.run.getSpec().participation.retryBackoff = "10s";
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(1, "a", 1);
        w.succeedTrainer(1, "b", 1);
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.aggregator(1, 1));
        return w;
    }

    @Test
    void aSucceededAggregationRecordsTheRound() {
        RoundWorld w = aggregating();
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Aggregating);
        assertThat(w.status.stage).isEqualTo(Stage.Aggregating);
        w.clock.advance(Duration.ofSeconds(7));
        w.succeedAggregation(1, 1, 2.0, null);
        RunSnapshot s = w.reconcile();

        assertThat(w.status.completedRounds).isEqualTo(1);
        assertThat(w.status.stage).isEqualTo(Stage.Idle);
        assertThat(w.status.history).singleElement().satisfies(h -> {
            assertThat(h.outcome).isEqualTo(RoundOutcome.Completed);
            assertThat(h.participants).containsExactly("a", "b");
            assertThat(h.globalEvalLoss).isEqualTo(2.0);
        });
        assertThat(w.status.latestAdapter.round).isEqualTo(1);
        assertThat(w.status.bestAdapter.sha256).isEqualTo("sha-global-1");
        assertThat(w.shardWrites).containsExactlyInAnyOrder("a trained r1", "b trained r1");
        assertThat(w.counter("fedtune.shard.outcomes", "Succeeded")).isEqualTo(2);
        assertThat(w.eventReasons()).contains(EventReason.RoundFinished);
        assertThat(s.requeue()).contains(Duration.ZERO);

        w.reconcile(); // between rounds: the recorded round's pods go, round 2 starts
        assertThat(w.pods.pods).isEmpty();
        assertThat(w.status.currentRound).isEqualTo(2);
    }

    @Test
    void aFailedAggregationIsRetriedWithTheVeryTaskOfTheFirstAttemptAfterItsBackoff() {
        RoundWorld w = aggregating();
        w.failAggregation(1, 1, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(4));
        RunSnapshot s = w.reconcile();
        assertThat(s.situation.reason()).isEqualTo(ConditionReason.AggregationRetryBackoff);
        assertThat(s.requeue()).contains(Duration.ofSeconds(6));
        // a shard joining meanwhile changes nothing: the retry repeats the first task
        w.shards.add(io.fedtune.operator.Fixtures.shard("late", "g"));
        w.clock.advance(Duration.ofSeconds(6));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.aggregator(1, 2));
        assertThat(ContractJson.write(w.task(w.aggregator(1, 2))))
                .isEqualTo(ContractJson.write(w.task(w.aggregator(1, 1)).withAttempt(2)));
        assertThat(w.eventReasons()).contains(EventReason.AggregationFailed);

        w.succeedAggregation(1, 2, 1.5, null);
        w.reconcile();
        assertThat(w.status.completedRounds).isEqualTo(1);
    }

    @Test
    void anAggregationFailingEveryAttemptFailsTheRun() {
        RoundWorld w = aggregating();
        w.run.getSpec().participation.maxRetries = 0;
        w.failAggregation(1, 1, FailureReason.NoValidUpdates);
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("AggregationFailed");
        });
        assertThat(w.status.history).singleElement().satisfies(h -> assertThat(h.outcome).isEqualTo(RoundOutcome.Failed));
        assertThat(w.counter("fedtune.rounds.completed", "Failed")).isEqualTo(1);
    }

    @Test
    void aRefusedPodCreateLeavesStatusAsItWasAndThrows() {
        RoundWorld w = aggregating();
        w.failAggregation(1, 1, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(10));
        var before = w.status;
        w.pods.refuseCreate = () -> new IllegalStateException("quota exceeded");
        org.assertj.core.api.Assertions.assertThatThrownBy(w::reconcile).hasMessage("quota exceeded");
        assertThat(w.status).isSameAs(before);
        w.pods.refuseCreate = null;
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.aggregator(1, 2));
    }

    @Test
    void storageFailuresOfTheAggregationAreRetriedPastMaxRetriesUntilTheRoundTimeoutAfterItStarted() {
        RoundWorld w = aggregating(); // the aggregation started at T0 (roundTimeout 30s in the fixture)
        w.run.getSpec().participation.maxRetries = 0;
        w.run.getSpec().participation.roundTimeout = "5m";
        w.failAggregation(1, 1, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.aggregator(1, 2));
        assertThat(w.status.phase).isEqualTo(Phase.Running);
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.StorageUnavailable);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("StorageUnavailable");
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getMessage()).contains("the aggregation");
        });

        w.failAggregation(1, 2, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(20));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.aggregator(1, 3));
        w.succeedAggregation(1, 3, 1.5, null);
        w.reconcile();
        assertThat(w.status.completedRounds).isEqualTo(1);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("StorageUnavailable");
            assertThat(c.getStatus()).isEqualTo("False");
        });
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.StorageAvailable);
    }

    @Test
    void anAggregationStillFailingOnStorageAtTheRoundTimeoutFailsTheRun() {
        RoundWorld w = aggregating();
        w.run.getSpec().participation.maxRetries = 0;
        w.run.getSpec().participation.roundTimeout = "2m";
        int attempt = 1;
        while (true) {
            w.failAggregation(1, attempt, FailureReason.StorageUnreachable);
            RunSnapshot s = w.reconcile();
            if (w.status.phase != Phase.Running) {
                break;
            }
            w.clock.advance(s.requeue().orElseThrow());
            w.reconcile();
            if (w.status.phase != Phase.Running) {
                break;
            }
            assertThat(w.pods.created).last().isEqualTo(w.aggregator(1, ++attempt));
        }
        assertThat(w.clock.instant()).isEqualTo(RoundWorld.T0.plus(Duration.ofMinutes(2)));
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo(ConditionReason.AggregationFailed.name());
            assertThat(c.getMessage()).contains("StorageUnreachable");
        });
    }
}
