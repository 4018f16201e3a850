package io.fedtune.trainer.aggregate.linalg;

/** Dot products with four accumulators, so the additions do not wait on each other. */
final class Dot {
    private Dot() {
    }

    /** Σ x[i]·y[yOffset + i] over x's length. */
    static double of(double[] x, double[] y, int yOffset) {
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        int n = x.length;
        int i = 0;
        for (; i + 3 < n; i += 4) {
            s0 += x[i] * y[yOffset + i];
            s1 += x[i + 1] * y[yOffset + i + 1];
            s2 += x[i + 2] * y[yOffset + i + 2];
            s3 += x[i + 3] * y[yOffset + i + 3];
        }
        for (; i < n; i++) {
            s0 += x[i] * y[yOffset + i];
        }
        return (s0 + s1) + (s2 + s3);
    }
}
