package io.fedtune.trainer.aggregate.privacy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.fedtune.trainer.aggregate.NumpyReference;
import org.junit.jupiter.api.Test;

class RdpAccountantTest {

    @Test
    void fullBatchIsThePlainGaussianMechanism() {
        // q = 1: RDP of the Gaussian mechanism with sensitivity 1 and std z is exactly α / (2z²) (Mironov 2017, Prop. 7)
        for (double alpha : new double[] {1.5, 2, 7.3, 32}) {
            assertThat(RdpAccountant.rdp(1.0, 2.0, alpha)).isCloseTo(alpha / 8.0, within(1e-15));
        }
    }

    @Test
    void fullBatchEpsilonMatchesTheClosedFormMinimum() {
        double z = 3.0;
        double delta = 1e-5;
        double eps = RdpAccountant.epsilon(RdpAccountant.rdp(1.0, z), delta);
        // independent: minimise α/(2z²) − (log δ + log α)/(α−1) + log((α−1)/α) over a fine grid of α
        double best = Double.POSITIVE_INFINITY;
        for (double a = 1.001; a < 600; a += 0.001) {
            best = Math.min(best, a / (2 * z * z) - (Math.log(delta) + Math.log(a)) / (a - 1) + Math.log((a - 1) / a));
        }
        // the accountant only tries its own orders, so it is at least the true minimum and close to it
        assertThat(eps).isGreaterThanOrEqualTo(best - 1e-9);
        assertThat(eps).isCloseTo(best, within(0.01));
    }

    @Test
    void subsampledGaussianMatchesNumericalIntegration() {
        double q = 0.05;
        double z = 1.1;
        double[] alphas = {2, 3, 5.5, 8, 12, 2.5, 1.7};
        StringBuilder input = new StringBuilder();
        for (double a : alphas) {
            input.append(a).append(' ');
        }
        // A_α = E_{x~N(0,z²)} [((1−q) + q·exp((2x−1)/(2z²)))^α], integrated by scipy's adaptive quadrature
        double[] ref = NumpyReference.run("""
                import sys, numpy as np
                from scipy import integrate, stats
                q, z = 0.05, 1.1
                for a in map(float, sys.stdin.read().split()):
                    f = lambda x: stats.norm.pdf(x, scale=z) * ((1 - q) + q * np.exp((2 * x - 1) / (2 * z * z))) ** a
                    val, _ = integrate.quad(f, -60, 60, epsabs=0, epsrel=1e-12, limit=500)
                    print(np.log(val) / (a - 1))
                """, input.toString());
        for (int i = 0; i < alphas.length; i++) {
            assertThat(RdpAccountant.rdp(q, z, alphas[i])).as("alpha %s", alphas[i])
                    .isCloseTo(ref[i], within(1e-8 + 1e-6 * ref[i]));
        }
    }

    @Test
    void integerAndFractionalOrdersAgreeWhereTheyMeet() {
        // the two formulas are different series; at α close to an integer they must give nearly the same RDP
        double at4 = RdpAccountant.rdp(0.02, 0.9, 4.0);
        double near4 = RdpAccountant.rdp(0.02, 0.9, 4.0 + 1e-7);
        assertThat(near4).isCloseTo(at4, within(1e-6 * at4));
    }

    @Test
    void compositionIsAdditiveAndEpsilonGrowsWithRounds() {
        double[] one = RdpAccountant.rdp(0.1, 1.0);
        double[] ten = one;
        for (int r = 1; r < 10; r++) {
            ten = RdpAccountant.compose(ten, one);
        }
        for (int i = 0; i < one.length; i++) {
            assertThat(ten[i]).isCloseTo(10 * one[i], within(1e-9 * Math.max(1, ten[i])));
        }
        double eps1 = RdpAccountant.epsilon(one, 1e-5);
        double eps10 = RdpAccountant.epsilon(ten, 1e-5);
        assertThat(eps10).isGreaterThan(eps1);
        assertThat(eps10).isLessThan(10 * eps1);
    }

    @Test
    void logErfcMatchesScipyIntoTheFarTail() {
        double[] xs = {-3, -0.5, 0, 0.3, 1.1, 2, 5, 12, 40};
        StringBuilder input = new StringBuilder();
        for (double x : xs) {
            input.append(x).append(' ');
        }
        // log erfc(x) = log 2 + log Φ(−x√2)
        double[] ref = NumpyReference.run("""
                import sys, numpy as np
                from scipy import special
                for x in map(float, sys.stdin.read().split()):
                    print(np.log(2) + special.log_ndtr(-x * np.sqrt(2)))
                """, input.toString());
        for (int i = 0; i < xs.length; i++) {
            assertThat(LogErfc.of(xs[i])).as("x=%s", xs[i]).isCloseTo(ref[i], within(1e-12 + 1e-12 * Math.abs(ref[i])));
        }
    }
}
