package io.fedtune.trainer.aggregate.privacy;

/**
 * Rényi differential privacy of the sampled Gaussian mechanism (Mironov, Talwar, Zhang 2019, "Rényi Differential
 * Privacy of the Sampled Gaussian Mechanism"): integer orders by the binomial expansion (Sec. 3.2), fractional orders by
 * the two-sided series (Sec. 3.3); converted to (ε, δ) with the bound of Balle et al. 2020 (Thm. 21), minimised over
 * orders. RDP composes additively, so rounds sum their vectors.
 */
public final class RdpAccountant {
    /** Orders α: 1.1 to 10.9 in steps of 0.1, then 12 to 63, then a few large ones for small ε. */
    public static final double[] ORDERS = orders();

    private RdpAccountant() {
    }

    private static double[] orders() {
        double[] o = new double[99 + 52 + 3];
        int i = 0;
        for (int x = 1; x < 100; x++) {
            o[i++] = 1 + x / 10.0;
        }
        for (int a = 12; a < 64; a++) {
            o[i++] = a;
        }
        o[i++] = 128;
        o[i++] = 256;
        o[i] = 512;
        return o;
    }

    /** RDP of one application, at each of {@link #ORDERS}. */
    public static double[] rdp(double samplingRate, double noiseMultiplier) {
        double[] r = new double[ORDERS.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = rdp(samplingRate, noiseMultiplier, ORDERS[i]);
        }
        return r;
    }

    /** RDP at order alpha > 1 of the Gaussian mechanism with noise multiplier z, applied to a q-sample. */
    public static double rdp(double q, double z, double alpha) {
        if (q < 0 || q > 1) {
            throw new IllegalArgumentException("sampling rate must be in [0, 1]");
        }
        if (q == 0) {
            return 0;
        }
        if (z == 0) {
            return Double.POSITIVE_INFINITY;
        }
        if (q == 1) {
            return alpha / (2 * z * z);
        }
        if (Double.isInfinite(alpha)) {
            return Double.POSITIVE_INFINITY;
        }
        double logA = alpha == Math.rint(alpha) ? logAInteger(q, z, (int) alpha) : logAFractional(q, z, alpha);
        return logA / (alpha - 1);
    }

    /** log A_α = log Σ_k C(α,k) (1−q)^(α−k) q^k exp((k²−k)/(2z²)). */
    private static double logAInteger(double q, double z, int alpha) {
        double logA = Double.NEGATIVE_INFINITY;
        double logBinomial = 0;
        for (int k = 0; k <= alpha; k++) {
            if (k > 0) {
                logBinomial += Math.log(alpha - k + 1) - Math.log(k);
            }
            double term = logBinomial + k * Math.log(q) + (alpha - k) * Math.log1p(-q) + (k * (double) k - k) / (2 * z * z);
            logA = logAdd(logA, term);
        }
        return logA;
    }

    /**
     * A_α = A₀ + A₁ split at z₀ = z² log(1/q − 1) + 1/2, each a series over i with alternating binomial coefficients
     * C(α, i) (Mironov et al. 2019, Sec. 3.3); summed until both terms fall below e⁻³⁰.
     */
    private static double logAFractional(double q, double z, double alpha) {
        double logA0 = Double.NEGATIVE_INFINITY;
        double logA1 = Double.NEGATIVE_INFINITY;
        double z0 = z * z * Math.log(1 / q - 1) + 0.5;
        double logAbsCoef = 0;
        int sign = 1;
        for (int i = 0; i < 100_000; i++) {
            if (i > 0) {
                double factor = (alpha - i + 1) / i;
                if (factor < 0) {
                    sign = -sign;
                }
                logAbsCoef += Math.log(Math.abs(factor));
            }
            double j = alpha - i;
            double logT0 = logAbsCoef + i * Math.log(q) + j * Math.log1p(-q);
            double logT1 = logAbsCoef + j * Math.log(q) + i * Math.log1p(-q);
            double logE0 = Math.log(0.5) + LogErfc.of((i - z0) / (Math.sqrt(2) * z));
            double logE1 = Math.log(0.5) + LogErfc.of((z0 - j) / (Math.sqrt(2) * z));
            double logS0 = logT0 + (i * (double) i - i) / (2 * z * z) + logE0;
            double logS1 = logT1 + (j * j - j) / (2 * z * z) + logE1;
            if (sign > 0) {
                logA0 = logAdd(logA0, logS0);
                logA1 = logAdd(logA1, logS1);
            } else {
                logA0 = logSub(logA0, logS0);
                logA1 = logSub(logA1, logS1);
            }
            if (Math.max(logS0, logS1) < -30) {
                break;
            }
        }
        return logAdd(logA0, logA1);
    }

    /** The smallest ε over orders such that the mechanism with this RDP vector is (ε, δ)-DP. */
    public static double epsilon(double[] rdp, double delta) {
        double best = Double.POSITIVE_INFINITY;
        for (int i = 0; i < rdp.length; i++) {
            double a = ORDERS[i];
            double eps = rdp[i] - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a);
            best = Math.min(best, eps);
        }
        return Math.max(0, best);
    }

    /** Composition: the RDP of running both. */
    public static double[] compose(double[] first, double[] second) {
        double[] sum = new double[first.length];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = first[i] + second[i];
        }
        return sum;
    }

    static double logAdd(double a, double b) {
        double hi = Math.max(a, b);
        double lo = Math.min(a, b);
        if (hi == Double.NEGATIVE_INFINITY) {
            return hi;
        }
        return hi + Math.log1p(Math.exp(lo - hi));
    }

    static double logSub(double a, double b) {
        if (b == Double.NEGATIVE_INFINITY) {
            return a;
        }
        if (a <= b) {
            // only rounding can make the remainder of this alternating series negative; treat it as zero
            return Double.NEGATIVE_INFINITY;
        }
        return a + Math.log(-Math.expm1(b - a));
    }
}
