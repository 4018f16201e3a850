package io.fedtune.operator.round;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.RoundSummary;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What status keeps of the devices any image reports: short words, a few kinds, counts. */
class DeviceUseTest {

    private static TrainResult trained(String device, String precision, String cache) {
        return new TrainResult(Outcome.Succeeded, null, null, "s", 1, null, null, null, null, null, null, null, null, null, null, null,
                device, precision, cache, null, null, null);
    }

    @Test
    void reportedValuesAreKeptAsShortWordsOnly() {
        assertThat(DeviceUse.word("gpu")).isEqualTo("gpu");
        assertThat(DeviceUse.word("cuda:0")).isEqualTo("cuda:0");
        assertThat(DeviceUse.word(null)).isNull();
        assertThat(DeviceUse.word("")).isNull();
        assertThat(DeviceUse.word("gpu\nFP32")).isEqualTo("invalid");
        assertThat(DeviceUse.word("x".repeat(17))).isEqualTo("invalid");
        assertThat(DeviceUse.of("gpu", "BF16")).isEqualTo("gpu/BF16");
        assertThat(DeviceUse.of("gpu", null)).isEqualTo("gpu");
        assertThat(DeviceUse.of(null, null)).isNull();
    }

    @Test
    void kindsAreCountedMostFirstAndCappedWhateverTheImagesSay() {
        List<TrainResult> results = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            results.add(trained("gpu", "BF16", "hit"));
        }
        results.add(trained("cpu", "FP32", "off"));
        results.add(trained(null, null, null));
        assertThat(DeviceUse.trainers(results)).isEqualTo("gpu/BF16 x3, cpu/FP32 x1, unreported x1");

        // 1,000 trainers, each reporting its own device: four kinds named, the rest counted, the string stays short
        List<TrainResult> odd = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            odd.add(trained("device-" + i, "precision-" + i, "hit"));
        }
        RoundSummary summary = new RoundSummary();
        DeviceUse.count(summary, odd);
        assertThat(summary.trainerDevices).endsWith(", other x996").hasSizeLessThan(200);
        assertThat(summary.trainerDevices.split(", ")).hasSize(RoundSummary.DEVICE_GROUPS_LIMIT + 1);
        assertThat(summary.cacheHits).isEqualTo(1000);
        assertThat(summary.cacheMisses).isZero();
    }
}
