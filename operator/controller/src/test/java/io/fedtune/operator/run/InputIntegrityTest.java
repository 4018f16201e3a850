package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.events.EventReason;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * ARCHITECTURE.md, "Trust boundaries": the operator hands each pod the SHA-256 it recorded for the global adapter the
 * pod reads, and an {@code InputTampered} refusal is permanent and reaches the run's history, conditions and events
 * with its message.
 */
class InputIntegrityTest {
    private static final String TAMPERED = "s3://fedtune-runs/t/round-0001/global/adapter_model.safetensors has SHA-256 "
            + "ff, but the operator recorded sha-global-1";

    private static RoundWorld inRound2(String... shards) {
        RoundWorld w = new RoundWorld("t", 3, shards);
        w.run.getSpec().participation.retryBackoff = "10s";
        w.reconcile();
        w.reconcile(); // round 1's trainers
        for (String shard : shards) {
            assertThat(w.trainTask(w.trainer(1, shard, 1)).globalAdapterSha256()).as("round 1 starts from no adapter").isNull();
            w.succeedTrainer(1, shard, 1);
        }
        w.reconcile();
        w.succeedAggregation(1, 1, 1.0, null);
        w.reconcile();
        w.reconcile();
        w.reconcile(); // round 2's trainers
        return w;
    }

    @Test
    void round2sTasksCarryTheSha256RecordedFromRound1sAggregation() {
        RoundWorld w = inRound2("a", "b");
        assertThat(w.status.latestAdapter.sha256).isEqualTo("sha-global-1");
        var train = w.trainTask(w.trainer(2, "a", 1));
        assertThat(train.globalAdapter()).isEqualTo(w.status.latestAdapter.uri);
        assertThat(train.globalAdapterSha256()).isEqualTo("sha-global-1");

        w.succeedTrainer(2, "a", 1);
        w.succeedTrainer(2, "b", 1);
        w.reconcile();
        var aggregate = w.task(w.aggregator(2, 1));
        assertThat(aggregate.previousGlobal()).isEqualTo(w.status.latestAdapter.uri);
        assertThat(aggregate.previousGlobalSha256()).isEqualTo("sha-global-1");
        assertThat(w.status.optimizerStateSha256).containsEntry(RoundWorld.OPTIMIZER_STATE, "sha-state-1");
        assertThat(aggregate.optimizerStateSha256()).as("the state files round 1's aggregation reported")
                .containsExactly(java.util.Map.entry(RoundWorld.OPTIMIZER_STATE, "sha-state-1"));
    }

    @Test
    void aTamperedInputFailsTheShardWithoutRetriesAndTheRunSaysWhy() {
        RoundWorld w = inRound2("a");
        w.failTrainer(2, "a", 1, FailureReason.InputTampered, TAMPERED);
        w.clock.advance(Duration.ofMinutes(1)); // past the backoff: still no second attempt
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.trainer(2, "a", 2));
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.history.get(1).failedAttemptReasons).containsEntry("InputTampered", 1);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getReason()).isEqualTo(ConditionReason.TooFewShards.name());
            assertThat(c.getMessage()).contains("a (InputTampered: " + TAMPERED + ")");
        });
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.RunFailed);
            assertThat(e.message()).contains("InputTampered", TAMPERED);
        });
    }

    @Test
    void aTamperedPreviousGlobalFailsTheAggregationWithoutRetries() {
        RoundWorld w = inRound2("a");
        w.succeedTrainer(2, "a", 1);
        w.reconcile();
        w.failAggregation(2, 1, FailureReason.InputTampered, TAMPERED);
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.pods.created).doesNotContain(w.aggregator(2, 2));
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getReason()).isEqualTo(ConditionReason.AggregationFailed.name());
            assertThat(c.getMessage()).contains("(InputTampered): " + TAMPERED);
        });
        assertThat(w.events).anySatisfy(e -> assertThat(e.message()).contains("InputTampered", TAMPERED));
    }
}
