package io.fedtune.operator.validation;

/**
 * Cost arithmetic as cel-go's checker does it: counts that saturate at {@link #UNBOUNDED} instead of overflowing, and
 * per-byte factors rounded up.
 */
final class CelCost {
    static final long UNBOUNDED = Long.MAX_VALUE;
    private static final double STRING_TRAVERSAL_COST_FACTOR = 0.1;

    private CelCost() {
    }

    static long add(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 || a == UNBOUNDED || b == UNBOUNDED ? UNBOUNDED : r;
    }

    static long multiply(long a, long b) {
        if (a == 0 || b == 0) {
            return 0;
        }
        return a > UNBOUNDED / b ? UNBOUNDED : a * b;
    }

    /** Cost of walking a string of the given size: 0.1 per byte, rounded up. */
    static long traversal(long size) {
        return factor(size, STRING_TRAVERSAL_COST_FACTOR);
    }

    static long factor(long size, double perUnit) {
        if (size == UNBOUNDED) {
            return UNBOUNDED;
        }
        double cost = Math.ceil(size * perUnit);
        return cost >= UNBOUNDED ? UNBOUNDED : (long) cost;
    }
}
