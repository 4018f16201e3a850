package io.fedtune.trainer.aggregate.combine;

import io.fedtune.api.v1alpha1.NormBoundMode;
import java.util.Arrays;

/**
 * Bounds each update's L2 norm at {@code factor ×} the round's median update norm: clipped updates are scaled down to
 * the bound, refused ones are left out. The median is robust: a minority of outsized updates cannot move it far.
 */
public final class NormBound {
    private final NormBoundMode mode;
    private final double factor;

    public NormBound(NormBoundMode mode, double factor) {
        if (factor < 1) {
            throw new IllegalArgumentException("normBoundFactor must be >= 1");
        }
        this.mode = mode;
        this.factor = factor;
    }

    /** What happens to one update. */
    public record Decision(boolean refused, double scale, double bound) {
    }

    public static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    public Decision[] decide(double[] norms) {
        Decision[] decisions = new Decision[norms.length];
        double bound = norms.length == 0 ? 0 : factor * median(norms);
        for (int i = 0; i < norms.length; i++) {
            boolean over = mode != NormBoundMode.Off && norms[i] > bound;
            if (!over) {
                decisions[i] = new Decision(false, 1.0, bound);
            } else if (mode == NormBoundMode.Clip) {
                decisions[i] = new Decision(false, bound / norms[i], bound);
            } else {
                decisions[i] = new Decision(true, 0.0, bound);
            }
        }
        return decisions;
    }
}
