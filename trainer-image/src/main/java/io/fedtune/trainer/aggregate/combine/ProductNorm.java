package io.fedtune.trainer.aggregate.combine;

import java.util.List;

/**
 * Frobenius norm of {@code Σ c_k·s_k·B_k·A_k} without forming the out×in matrix: with the factors stacked into
 * B (out×R) and A (R×in), ‖B·A‖² = trace((BᵀB)(AAᵀ)), two R×R Gram matrices.
 */
public final class ProductNorm {
    private ProductNorm() {
    }

    public static double squared(List<LoraFactors> terms, double[] coefficients) {
        int total = 0;
        for (LoraFactors f : terms) {
            total += f.rank();
        }
        int out = terms.get(0).out();
        int in = terms.get(0).in();
        // row p of the stacked Aᵀ-side and column p of the stacked B-side, with the coefficient on B
        double[][] bCols = new double[total][out];
        double[][] aRows = new double[total][in];
        int p = 0;
        for (int t = 0; t < terms.size(); t++) {
            LoraFactors f = terms.get(t);
            double c = coefficients[t] * f.scale();
            for (int j = 0; j < f.rank(); j++, p++) {
                for (int i = 0; i < out; i++) {
                    bCols[p][i] = c * f.b()[i * f.rank() + j];
                }
                for (int i = 0; i < in; i++) {
                    aRows[p][i] = f.a()[j * in + i];
                }
            }
        }
        double sum = 0;
        for (int x = 0; x < total; x++) {
            for (int y = 0; y < total; y++) {
                sum += dot(bCols[x], bCols[y]) * dot(aRows[x], aRows[y]);
            }
        }
        return Math.max(0, sum);
    }

    private static double dot(double[] x, double[] y) {
        double s = 0;
        for (int i = 0; i < x.length; i++) {
            s += x[i] * y[i];
        }
        return s;
    }
}
