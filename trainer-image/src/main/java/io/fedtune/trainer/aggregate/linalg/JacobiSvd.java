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
        // columns of A, rotated in place until mutually orthogonal; V collects the rotations
        double[][] w = new double[cols][rows];
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                w[j][i] = a[i][j];
            }
        }
        double[][] vt = new double[cols][cols];
        for (int j = 0; j < cols; j++) {
            vt[j][j] = 1;
        }
        double eps = 1e-15;
        for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
            boolean rotated = false;
            for (int p = 0; p < cols - 1; p++) {
                for (int q = p + 1; q < cols; q++) {
                    double alpha = dot(w[p], w[p]);
                    double beta = dot(w[q], w[q]);
                    double gamma = dot(w[p], w[q]);
                    if (gamma == 0 || Math.abs(gamma) <= eps * Math.sqrt(alpha * beta)) {
                        continue;
                    }
                    rotated = true;
                    double zeta = (beta - alpha) / (2 * gamma);
                    double t = Math.signum(zeta) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
                    if (zeta == 0) {
                        t = 1;
                    }
                    double c = 1 / Math.sqrt(1 + t * t);
                    double s = c * t;
                    rotate(w[p], w[q], c, s);
                    rotate(vt[p], vt[q], c, s);
                }
            }
            if (!rotated) {
                break;
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
        for (int i = 0; i < cols; i++) {
            int j = order[i];
            s[i] = sigma[j];
            double[] col = w[j];
            if (sigma[j] > 0) {
                for (int e = 0; e < rows; e++) {
                    col[e] /= sigma[j];
                }
            }
            uCols[i] = col;
            vCols[i] = vt[j];
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
        double sum = 0;
        for (int i = 0; i < x.length; i++) {
            sum += x[i] * y[i];
        }
        return sum;
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
