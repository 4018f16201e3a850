package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.v1alpha1.RoundOutcome;
import org.junit.jupiter.api.Test;

/** Where a round's trainers and aggregation ran, and the trainers' use of the model cache, in the round's history. */
class RoundDevicesTest {

    private static RoundWorld training(String... shards) {
        RoundWorld w = new RoundWorld("g", 2, shards);
        w.reconcile();
        w.reconcile();
        return w;
    }

    @Test
    void theHistoryCountsTheTrainersDevicesAndCacheUseAndNamesTheAggregationsDevice() {
        RoundWorld w = training("a", "b", "c");
        w.succeedTrainer(1, "a", 1, "gpu", "BF16", "hit");
        w.succeedTrainer(1, "b", 1, "gpu", "BF16", "miss");
        w.succeedTrainer(1, "c", 1, "cpu", "FP32", "off");
        w.reconcile();
        w.succeedAggregation(1, 1, 2.0, null, "gpu", "BF16");
        w.reconcile();

        assertThat(w.status.history).singleElement().satisfies(h -> {
            assertThat(h.outcome).isEqualTo(RoundOutcome.Completed);
            assertThat(h.trainerDevices).isEqualTo("gpu/BF16 x2, cpu/FP32 x1");
            assertThat(h.aggregationDevice).isEqualTo("gpu/BF16");
            assertThat(h.cacheHits).isEqualTo(1);
            assertThat(h.cacheMisses).isEqualTo(1);
        });
    }

    @Test
    void withoutACacheThereAreNoCacheCountsAndWhatNobodyReportedIsLeftOut() {
        RoundWorld w = training("a", "b");
        w.succeedTrainer(1, "a", 1);
        w.succeedTrainer(1, "b", 1);
        w.reconcile();
        w.succeedAggregation(1, 1, 2.0, null, null, null); // no global eval sets: no evaluation ran
        w.reconcile();
        assertThat(w.status.history).last().satisfies(h -> {
            assertThat(h.trainerDevices).isEqualTo("cpu/FP32 x2");
            assertThat(h.aggregationDevice).isNull();
            assertThat(h.cacheHits).isNull();
            assertThat(h.cacheMisses).isNull();
        });
        assertThat(ContractJson.write(w.status.history.get(0))).doesNotContain("cache", "aggregationDevice");

        // an image from before the contract named devices says nothing; one that does is counted beside it
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(2, "a", 1, null, null, null);
        w.succeedTrainer(2, "b", 1, null, null, null);
        w.reconcile();
        w.succeedAggregation(2, 1, 1.9, null);
        w.reconcile();
        assertThat(w.status.history).last().satisfies(h -> {
            assertThat(h.round).isEqualTo(2);
            assertThat(h.trainerDevices).isNull();
            assertThat(h.aggregationDevice).isEqualTo("cpu/FP32");
        });
    }

    @Test
    void aFailedRoundStillSaysWhereItsTrainersRan() {
        RoundWorld w = training("a", "b");
        w.run.getSpec().participation.minShards = 2;
        w.succeedTrainer(1, "a", 1, "gpu", "BF16", "miss");
        w.failTrainer(1, "b", 1, FailureReason.InvalidTask);
        w.reconcile();
        assertThat(w.status.history).singleElement().satisfies(h -> {
            assertThat(h.outcome).isEqualTo(RoundOutcome.Failed);
            assertThat(h.trainerDevices).isEqualTo("gpu/BF16 x1");
            assertThat(h.cacheHits).isZero();
            assertThat(h.cacheMisses).isEqualTo(1);
            assertThat(h.aggregationDevice).isNull();
        });
    }
}
