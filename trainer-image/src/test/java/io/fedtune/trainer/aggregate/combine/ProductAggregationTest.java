package io.fedtune.trainer.aggregate.combine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.fedtune.trainer.aggregate.NumpyReference;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ProductAggregationTest {
    private final Random random = new Random(11);

    private LoraFactors randomFactors(int rank, int in, int out, double alpha) {
        float[] a = new float[rank * in];
        float[] b = new float[out * rank];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) random.nextGaussian();
        }
        for (int i = 0; i < b.length; i++) {
            b[i] = (float) random.nextGaussian();
        }
        return new LoraFactors(a, b, rank, in, out, alpha / rank);
    }

    /** Σ w_i s_i B_i A_i with plain loops, as a dense out×in matrix. */
    private static double[] denseWeightedSum(List<LoraFactors> shards, double[] w) {
        LoraFactors first = shards.get(0);
        double[] m = new double[first.out() * first.in()];
        for (int s = 0; s < shards.size(); s++) {
            LoraFactors f = shards.get(s);
            for (int i = 0; i < f.out(); i++) {
                for (int j = 0; j < f.in(); j++) {
                    double sum = 0;
                    for (int k = 0; k < f.rank(); k++) {
                        sum += (double) f.b()[i * f.rank() + k] * f.a()[k * f.in() + j];
                    }
                    m[i * f.in() + j] += w[s] * f.scale() * sum;
                }
            }
        }
        return m;
    }

    private static double[] dense(LoraFactors f) {
        return denseWeightedSum(List.of(f), new double[] {1});
    }

    private static double squaredDistance(double[] x, double[] y) {
        double d = 0;
        for (int i = 0; i < x.length; i++) {
            d += (x[i] - y[i]) * (x[i] - y[i]);
        }
        return d;
    }

    private static double squaredNorm(double[] x) {
        return squaredDistance(x, new double[x.length]);
    }

    @Test
    void isExactWhenTheRanksAddUpToAtMostTheTarget() {
        int in = 24;
        int out = 18;
        // heterogeneous LoRA: ranks 2, 3 and 1, all with alpha 16, so scales 8, 16/3 and 16
        List<LoraFactors> shards = List.of(randomFactors(2, in, out, 16), randomFactors(3, in, out, 16),
                randomFactors(1, in, out, 16));
        double[] w = ShardWeights.of(io.fedtune.api.v1alpha1.Weighting.Samples, new long[] {100, 300, 50},
                new double[] {1, 1, 2});
        double targetScale = 16.0 / 8;

        RefactoredModule result = ProductAggregation.aggregate(shards, w, 8, targetScale, 1);

        double[] expected = denseWeightedSum(shards, w);
        double[] actual = dense(result.factors());
        assertThat(result.factors().rank()).isEqualTo(8);
        assertThat(squaredDistance(expected, actual) / squaredNorm(expected)).isLessThan(1e-10);
        assertThat(result.keptFraction()).isCloseTo(1.0, within(1e-12));
        assertThat(result.totalEnergy()).isCloseTo(squaredNorm(expected), within(1e-6 * squaredNorm(expected)));
        // the two padded rank slots have zero B columns but non-zero A rows, so they can still train
        for (int i = 0; i < out; i++) {
            assertThat(result.factors().b()[i * 8 + 7]).isZero();
        }
        assertThat(result.factors().a()[7 * in]).isNotZero();
    }

    @Test
    void isTheBestRankRApproximationOtherwise() {
        int in = 20;
        int out = 30;
        List<LoraFactors> shards = new ArrayList<>();
        for (int s = 0; s < 4; s++) {
            shards.add(randomFactors(4, in, out, 8));
        }
        double[] w = {0.1, 0.2, 0.3, 0.4};
        int target = 4;
        RefactoredModule result = ProductAggregation.aggregate(shards, w, target, 8.0 / target, 1);

        double[] m = denseWeightedSum(shards, w);
        float[] asFloats = new float[m.length];
        for (int i = 0; i < m.length; i++) {
            asFloats[i] = (float) m[i];
        }
        // numpy's dense SVD of the same matrix: energy beyond rank 4 and the kept fraction
        double[] ref = NumpyReference.run("""
                import sys, numpy as np
                m = np.array(sys.stdin.read().split(), dtype=np.float64).reshape(30, 20)
                s = np.linalg.svd(m, compute_uv=False)
                print((s[4:] ** 2).sum(), (s[:4] ** 2).sum() / (s ** 2).sum())
                """, NumpyReference.numbers(asFloats));
        double residual = squaredDistance(m, dense(result.factors()));
        assertThat(residual).isCloseTo(ref[0], within(1e-4 * ref[0]));
        assertThat(result.keptFraction()).isCloseTo(ref[1], within(1e-5));
        assertThat(result.keptFraction()).isLessThan(1.0);
    }

    @Test
    void weightsAndScalesEnterLinearly() {
        int in = 6;
        int out = 5;
        LoraFactors f = randomFactors(2, in, out, 4);
        // one shard at weight 1: the refactored update at a different rank and scale is the same update
        RefactoredModule result = ProductAggregation.aggregate(List.of(f), new double[] {1}, 3, 1.0, 3);
        assertThat(squaredDistance(dense(f), dense(result.factors()))).isLessThan(1e-9 * squaredNorm(dense(f)));
    }
}
