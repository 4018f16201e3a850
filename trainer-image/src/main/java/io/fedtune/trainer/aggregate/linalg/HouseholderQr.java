package io.fedtune.trainer.aggregate.linalg;

/**
 * Thin QR of a tall matrix given by its columns (each of length m), by Householder reflections.
 * Q is kept as its reflectors; {@link #applyQ} multiplies by it without ever forming it.
 */
public final class HouseholderQr {
    private final int m;
    private final int n;
    private final int k;
    private final double[][] reflectors;
    private final double[][] r;

    private HouseholderQr(int m, int n, double[][] reflectors, double[][] r) {
        this.m = m;
        this.n = n;
        this.k = reflectors.length;
        this.reflectors = reflectors;
        this.r = r;
    }

    /** Factors the m×n matrix whose j-th column is {@code columns[j]}; the arrays are overwritten. */
    public static HouseholderQr factor(double[][] columns, int m) {
        int n = columns.length;
        int k = Math.min(m, n);
        double[][] reflectors = new double[k][];
        double[][] r = new double[k][n];
        for (int j = 0; j < k; j++) {
            double[] x = columns[j];
            double norm = 0;
            for (int i = j; i < m; i++) {
                norm += x[i] * x[i];
            }
            norm = Math.sqrt(norm);
            double alpha = x[j] > 0 ? -norm : norm;
            double[] v = new double[m - j];
            for (int i = j; i < m; i++) {
                v[i - j] = x[i];
            }
            v[0] -= alpha;
            double vNorm = 0;
            for (double e : v) {
                vNorm += e * e;
            }
            vNorm = Math.sqrt(vNorm);
            if (vNorm == 0) {
                // the column is already zero below the diagonal (or entirely zero): no reflection needed
                reflectors[j] = null;
                for (int c = j; c < n; c++) {
                    r[j][c] = columns[c][j];
                }
                continue;
            }
            for (int i = 0; i < v.length; i++) {
                v[i] /= vNorm;
            }
            reflectors[j] = v;
            for (int c = j; c < n; c++) {
                reflect(v, columns[c], j);
                r[j][c] = columns[c][j];
            }
        }
        return new HouseholderQr(m, n, reflectors, r);
    }

    private static void reflect(double[] v, double[] column, int offset) {
        int n = v.length;
        double dot = 2 * Dot.of(v, column, offset);
        for (int k = 0; k < n; k++) {
            column[offset + k] -= dot * v[k];
        }
    }

    /** Number of columns of the thin Q (min(m, n)). */
    public int size() {
        return k;
    }

    public int rows() {
        return m;
    }

    /** R as rows: k×n upper triangular. */
    public double[][] r() {
        return r;
    }

    /** Q·x for a vector x of length k: a column of length m. */
    public double[] applyQ(double[] x) {
        double[] y = new double[m];
        System.arraycopy(x, 0, y, 0, k);
        for (int j = k - 1; j >= 0; j--) {
            if (reflectors[j] != null) {
                reflect(reflectors[j], y, j);
            }
        }
        return y;
    }

    int columns() {
        return n;
    }
}
