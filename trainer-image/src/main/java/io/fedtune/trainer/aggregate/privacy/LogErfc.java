package io.fedtune.trainer.aggregate.privacy;

/**
 * log(erfc(x)) without underflow for large x, through the regularised upper incomplete gamma function:
 * erfc(x) = Q(1/2, x²) for x ≥ 0. The RDP of fractional orders needs erfc far out in its tail (e.g. erfc(40)).
 */
final class LogErfc {
    private static final double EPS = 1e-16;
    private static final double TINY = 1e-300;
    private static final double LOG_GAMMA_HALF = 0.5 * Math.log(Math.PI);

    private LogErfc() {
    }

    static double of(double x) {
        if (x < 0) {
            return Math.log(2 - Math.exp(of(-x)));
        }
        double t = x * x;
        if (t < 1.5) {
            return Math.log1p(-lowerSeries(t));
        }
        return -t + 0.5 * Math.log(t) - LOG_GAMMA_HALF + Math.log(upperContinuedFraction(t));
    }

    /** P(1/2, t) by its power series; converges quickly for t below a + 1. */
    private static double lowerSeries(double t) {
        double a = 0.5;
        double term = 1 / a;
        double sum = term;
        for (int n = 1; n < 1000; n++) {
            term *= t / (a + n);
            sum += term;
            if (Math.abs(term) < Math.abs(sum) * EPS) {
                break;
            }
        }
        return sum * Math.exp(-t + a * Math.log(t) - LOG_GAMMA_HALF);
    }

    /** The continued fraction of Γ(1/2, t)·e^t·t^(-1/2), evaluated by the modified Lentz method. */
    private static double upperContinuedFraction(double t) {
        double a = 0.5;
        double b = t + 1 - a;
        double c = 1 / TINY;
        double d = 1 / b;
        double h = d;
        for (int i = 1; i < 10000; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < TINY) {
                d = TINY;
            }
            c = b + an / c;
            if (Math.abs(c) < TINY) {
                c = TINY;
            }
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.abs(delta - 1) < EPS) {
                break;
            }
        }
        return h;
    }
}
