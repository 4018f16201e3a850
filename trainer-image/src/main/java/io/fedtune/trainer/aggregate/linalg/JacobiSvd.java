package io.fedtune.trainer.aggregate.linalg;

import java.util.Arrays;
import java.util.Comparator;

/**
 * Singular value decomposition of a small dense matrix by one-sided Jacobi rotations (Hestenes):
 * accurate to working precision, and simple enough to trust for the R×R core of product aggregation.
 */
public final class JacobiSvd {
    private static final int MAX_SWEEPS = 60;

    private final double[] singularValues;
    private final double[][] u;
    private final double[][] v;

    private JacobiSvd(double[] singularValues, double[][] u, double[][] v) {
        this.singularValues = singularValues;
        this.u = u;
        this.v = v;
    }

    /**
     * Decomposes the rows×cols matrix {@code a} (given as rows) into U·diag(s)·Vᵀ, singular values descending.
     * U has min(rows, cols) columns of length rows, V as many of length cols.
     */
    public static JacobiSvd decompose(double[][] a, int rows, int cols) {
        if (cols > rows) {
            JacobiSvd t = decompose(transpose(a, rows, cols), cols, rows);
            return new JacobiSvd(t.singularValues, t.v, t.u);
        }
        // columns of A, rotated in place until mutually orthogonal; their squared norms are updated, not recomputed
        double[][] w = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                w[j][i] = a[i][j];
            }
        }
        double[] norms = new double[cols];
        for (int j = 0; j < cols; j++) {
            norms[j] = dot(w[j], w[j]);
        }
        // columns orthogonal to 1e-12 leave singular values far more accurate than the float32 factors written
        double eps = 1e-12;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < cols - 1; p++) {
                for (int q = p + 1; q < cols; q++) {
                    double alpha = norms[p];
                    double beta = norms[q];
                    if (alpha == 0 || beta == 0) {
                        continue;
                    }
                    double gamma = dot(w[p], w[q]);
                    if (Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = zeta == 0 ? 1 : Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    rotate(w[p], w[q], c, s);
                    norms[p] = alpha - t * gamma;
                    norms[q] = beta + t * gamma;
                }
            }
            if (!rotated) {
                break;
            }
            // the updates drift by rounding; refresh them once a sweep
            for (int j = 0; j < cols; j++) {
                norms[j] = dot(w[j], w[j]);
            }
        }
        double[] sigma = new double[cols];
        for (int j = 0; j < cols; j++) {
            sigma[j] = Math.sqrt(dot(w[j], w[j]));
        }
        Integer[] order = new Integer[cols];
        for (int j = 0; j < cols; j++) {
            order[j] = j;
        }
        Arrays.sort(order, Comparator.comparingDouble((Integer j) -> sigma[j]).reversed());
        double[] s = new double[cols];
        double[][] uCols = new double[cols][];
        double[][] vCols = new double[cols][];
        double tiny = sigma.length == 0 ? 0 : sigma[order[0]] * 1e-13 * Math.max(rows, cols);
        for (int i = 0; i < cols; i++) {
            int j = order[i];
            double[] col = w[j];
            double[] v = new double[cols];
            if (sigma[j] > tiny) {
                s[i] = sigma[j];
                for (int e = 0; e < rows; e++) {
                    col[e] /= sigma[j];
                }
                // V is not accumulated during the sweeps: v = Aᵀu / σ is as accurate for the values that matter
                for (int k = 0; k < cols; k++) {
                    double sum = 0;
                    for (int e = 0; e < rows; e++) {
                        sum += a[e][k] * col[e];
                    }
                    v[k] = sum / sigma[j];
                }
            } else {
                // numerically zero: no direction worth keeping
                java.util.Arrays.fill(col, 0);
            }
            uCols[i] = col;
            vCols[i] = v;
        }
        return new JacobiSvd(s, uCols, vCols);
    }

    private static void rotate(double[] x, double[] y, double c, double s) {
        for (int i = 0; i < x.length; i++) {
            double xi = x[i];
            double yi = y[i];
            x[i] = c * xi - s * yi;
            y[i] = s * xi + c * yi;
        }
    }

    private static double dot(double[] x, double[] y) {
        return Dot.of(x, y, 0);
    }

    private static double[][] transpose(double[][] a, int rows, int cols) {
        double[][] t = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                t[j][i] = a[i][j];
            }
        }
        return t;
    }

    /** Singular values, descending. */
    public double[] singularValues() {
        return singularValues;
    }

    /** Left singular vector i (a column of U). */
    public double[] u(int i) {
        return u[i];
    }

    /** Right singular vector i (a column of V). */
    public double[] v(int i) {
        return v[i];
    }
}
