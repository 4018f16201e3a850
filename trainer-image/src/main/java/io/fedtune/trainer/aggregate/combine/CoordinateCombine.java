package io.fedtune.trainer.aggregate.combine;

import io.fedtune.api.v1alpha1.Combine;
import java.util.Arrays;

/**
 * Combines one tensor's values from several shards, coordinate by coordinate. The weighted mean uses the shards'
 * weights; trimmed mean and median are the unweighted robust statistics (Yin et al. 2018), as weights would let one
 * shard outvote the trimming.
 */
public final class CoordinateCombine {
    private final Combine rule;
    private final double trimFraction;

    public CoordinateCombine(Combine rule, double trimFraction) {
        if (trimFraction < 0 || trimFraction >= 0.5) {
            throw new IllegalArgumentException("trimFraction must be in [0, 0.5)");
        }
        this.rule = rule;
        this.trimFraction = trimFraction;
    }

    public Combine rule() {
        return rule;
    }

    /** How many values TrimmedMean drops at each end for n shards. */
    public int trimmed(int n) {
        return (int) Math.floor(trimFraction * n);
    }

    /**
     * Writes the combination of {@code values[i]} (one array per shard) into {@code out}.
     *
     * @param weights used by Mean only; should sum to 1
     */
    public void combine(float[][] values, double[] weights, float[] out) {
        switch (rule) {
            case Mean -> mean(values, weights, out);
            case TrimmedMean -> sorted(values, out, trimmed(values.length));
            case Median -> sorted(values, out, -1);
        }
    }

    /** Σ w_i x_i; the shard loop is outside so each inner loop streams one array (vectorised by the JIT). */
    public static void mean(float[][] values, double[] weights, float[] out) {
        Arrays.fill(out, 0f);
        for (int s = 0; s < values.length; s++) {
            float w = (float) weights[s];
            float[] x = values[s];
            for (int j = 0; j < out.length; j++) {
                out[j] += w * x[j];
            }
        }
    }

    private static void sorted(float[][] values, float[] out, int trim) {
        int n = values.length;
        float[] column = new float[n];
        for (int j = 0; j < out.length; j++) {
            for (int s = 0; s < n; s++) {
                column[s] = values[s][j];
            }
            Arrays.sort(column);
            if (trim < 0) {
                out[j] = n % 2 == 1 ? column[n / 2] : (float) ((column[n / 2 - 1] + (double) column[n / 2]) / 2);
            } else {
                double sum = 0;
                for (int s = trim; s < n - trim; s++) {
                    sum += column[s];
                }
                out[j] = (float) (sum / (n - 2 * trim));
            }
        }
    }
}
