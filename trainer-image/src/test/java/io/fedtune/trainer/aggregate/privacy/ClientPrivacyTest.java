package io.fedtune.trainer.aggregate.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class ClientPrivacyTest {

    @Test
    void clipsToTheBoundAndLeavesSmallerUpdates() {
        ClientPrivacy dp = new ClientPrivacy(2.0, 1.0);
        assertThat(dp.clipScale(8.0) * 8.0).isCloseTo(2.0, within(1e-12));
        assertThat(dp.clipScale(1.5)).isEqualTo(1.0);
    }

    @Test
    void noiseOnTheAverageHasMeanZeroAndStdZTimesCOverN() {
        double c = 0.5;
        double z = 1.3;
        int shards = 8;
        ClientPrivacy dp = new ClientPrivacy(c, z);
        float[] average = new float[400_000];
        dp.addNoise(average, shards, new SplittableRandom(42));
        double sum = 0;
        double sumSq = 0;
        for (float x : average) {
            sum += x;
            sumSq += (double) x * x;
        }
        int n = average.length;
        double mean = sum / n;
        double std = Math.sqrt(sumSq / n - mean * mean);
        double expectedStd = z * c / shards;
        // 400k samples: standard error of the mean is std/632, of the std about std/894; allow 5 standard errors
        assertThat(mean).isCloseTo(0, within(5 * expectedStd / Math.sqrt(n)));
        assertThat(std).isCloseTo(expectedStd, within(5 * expectedStd / Math.sqrt(2.0 * n)));
        // Gaussian tails: about 4.55% beyond 2 std
        long beyond = 0;
        for (float x : average) {
            if (Math.abs(x) > 2 * expectedStd) {
                beyond++;
            }
        }
        assertThat(beyond / (double) n).isCloseTo(0.0455, within(0.002));
    }

    @Test
    void zeroNoiseMultiplierAddsNothing() {
        float[] average = {1f, 2f};
        new ClientPrivacy(1, 0).addNoise(average, 3, new SplittableRandom(1));
        assertThat(average).containsExactly(1f, 2f);
    }
}
