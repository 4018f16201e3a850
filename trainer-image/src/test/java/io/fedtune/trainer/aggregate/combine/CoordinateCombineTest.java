package io.fedtune.trainer.aggregate.combine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.fedtune.api.v1alpha1.Combine;
import io.fedtune.api.v1alpha1.NormBoundMode;
import io.fedtune.api.v1alpha1.Weighting;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CoordinateCombineTest {
    private final Random random = new Random(3);

    private float[][] randomValues(int shards, int size) {
        float[][] v = new float[shards][size];
        for (float[] row : v) {
            for (int j = 0; j < size; j++) {
                row[j] = (float) random.nextGaussian();
            }
        }
        return v;
    }

    @Test
    void fedAvgWeightsBySamplesTimesShardWeight() {
        float[][] values = randomValues(3, 50);
        long[] samples = {10, 30, 60};
        double[] multipliers = {1, 2, 0.5};
        double[] w = ShardWeights.of(Weighting.Samples, samples, multipliers);
        float[] out = new float[50];
        new CoordinateCombine(Combine.Mean, 0.1).combine(values, w, out);
        double total = 10 * 1 + 30 * 2 + 60 * 0.5;
        for (int j = 0; j < 50; j++) {
            double expected = (10 * 1 * values[0][j] + 30 * 2 * values[1][j] + 60 * 0.5 * values[2][j]) / total;
            assertThat((double) out[j]).isCloseTo(expected, within(1e-6));
        }
    }

    @Test
    void fedAvgUniformIgnoresSampleCounts() {
        float[][] values = randomValues(4, 20);
        double[] w = ShardWeights.of(Weighting.Uniform, new long[] {1, 1000, 5, 7}, new double[] {1, 1, 1, 1});
        float[] out = new float[20];
        new CoordinateCombine(Combine.Mean, 0.1).combine(values, w, out);
        for (int j = 0; j < 20; j++) {
            double expected = (values[0][j] + values[1][j] + values[2][j] + values[3][j]) / 4.0;
            assertThat((double) out[j]).isCloseTo(expected, within(1e-6));
        }
    }

    @Test
    void trimmedMeanDropsTheExtremesOfEachCoordinate() {
        // 10 shards, trim 0.2: the 2 largest and 2 smallest of each coordinate go, whichever shard they came from
        int n = 10;
        float[][] values = randomValues(n, 30);
        values[0][5] = 1e6f;
        values[3][5] = -1e6f;
        float[] out = new float[30];
        CoordinateCombine combine = new CoordinateCombine(Combine.TrimmedMean, 0.2);
        assertThat(combine.trimmed(n)).isEqualTo(2);
        combine.combine(values, ShardWeights.uniform(n), out);
        for (int j = 0; j < 30; j++) {
            // reference: repeatedly remove the current max and min, then average what is left
            java.util.List<Double> column = new java.util.ArrayList<>();
            for (float[] v : values) {
                column.add((double) v[j]);
            }
            for (int t = 0; t < 2; t++) {
                column.remove(java.util.Collections.max(column));
                column.remove(java.util.Collections.min(column));
            }
            double expected = column.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            assertThat((double) out[j]).isCloseTo(expected, within(1e-6));
        }
        assertThat(Math.abs(out[5])).isLessThan(10f);
    }

    @Test
    void medianIsTheMiddleValueForOddAndMeanOfMiddleTwoForEven() {
        for (int n : new int[] {5, 6}) {
            float[][] values = randomValues(n, 40);
            float[] out = new float[40];
            new CoordinateCombine(Combine.Median, 0).combine(values, ShardWeights.uniform(n), out);
            for (int j = 0; j < 40; j++) {
                // reference by definition: at most half the values lie strictly on either side
                int below = 0;
                int above = 0;
                for (float[] v : values) {
                    if (v[j] < out[j]) {
                        below++;
                    } else if (v[j] > out[j]) {
                        above++;
                    }
                }
                assertThat(below).isLessThanOrEqualTo(n / 2);
                assertThat(above).isLessThanOrEqualTo(n / 2);
                if (n % 2 == 1) {
                    boolean present = false;
                    for (float[] v : values) {
                        present |= v[j] == out[j];
                    }
                    assertThat(present).isTrue();
                }
            }
        }
    }

    @Test
    void normBoundRefusesOrClipsAboveFactorTimesMedian() {
        double[] norms = {1.0, 1.2, 0.9, 50.0, 1.1};
        NormBound.Decision[] refuse = new NormBound(NormBoundMode.Refuse, 10).decide(norms);
        assertThat(refuse[3].refused()).isTrue();
        assertThat(refuse[3].bound()).isCloseTo(11.0, within(1e-12));
        assertThat(refuse[0].refused()).isFalse();
        NormBound.Decision[] clip = new NormBound(NormBoundMode.Clip, 10).decide(norms);
        assertThat(clip[3].refused()).isFalse();
        assertThat(clip[3].scale() * 50.0).isCloseTo(11.0, within(1e-12));
        assertThat(clip[1].scale()).isEqualTo(1.0);
        assertThat(new NormBound(NormBoundMode.Off, 1).decide(norms)[3].scale()).isEqualTo(1.0);
    }
}
