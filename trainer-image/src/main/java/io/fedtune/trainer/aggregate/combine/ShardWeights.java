package io.fedtune.trainer.aggregate.combine;

import io.fedtune.api.v1alpha1.Weighting;

/** Normalised shard weights: samples (or 1 each) times each shard's spec.weight, summing to 1. */
public final class ShardWeights {
    private ShardWeights() {
    }

    /** Samples (or 1) times each shard's weight, before normalisation. */
    public static double[] raw(Weighting weighting, long[] samples, double[] multipliers) {
        double[] w = new double[samples.length];
        for (int i = 0; i < w.length; i++) {
            w[i] = (weighting == Weighting.Uniform ? 1.0 : samples[i]) * multipliers[i];
        }
        return w;
    }

    public static double[] of(Weighting weighting, long[] samples, double[] multipliers) {
        double[] w = raw(weighting, samples, multipliers);
        double sum = 0;
        for (int i = 0; i < w.length; i++) {
            if (!(w[i] >= 0) || Double.isInfinite(w[i])) {
                throw new IllegalArgumentException("shard weight must be finite and non-negative, got " + w[i]);
            }
            sum += w[i];
        }
        if (sum <= 0) {
            throw new IllegalArgumentException("shard weights sum to zero");
        }
        for (int i = 0; i < w.length; i++) {
            w[i] /= sum;
        }
        return w;
    }

    public static double[] uniform(int n) {
        double[] w = new double[n];
        java.util.Arrays.fill(w, 1.0 / n);
        return w;
    }
}
