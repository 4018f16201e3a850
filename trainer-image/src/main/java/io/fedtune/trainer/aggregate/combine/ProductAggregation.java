package io.fedtune.trainer.aggregate.combine;

import io.fedtune.trainer.aggregate.linalg.HouseholderQr;
import io.fedtune.trainer.aggregate.linalg.JacobiSvd;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Exact product aggregation of one module: the new update is {@code Σ w_i·s_i·B_i·A_i}, computed without forming an
 * out×in matrix. The factors are stacked as {@code B = [√(w_i s_i) B_i]} (out×R) and {@code A = [√(w_i s_i) A_i]} (R×in),
 * so that {@code B·A} is the weighted sum; QR of B and of Aᵀ leaves a small core {@code R_B·R_Aᵀ}, whose SVD gives the
 * best rank-r approximation (Eckart–Young), split evenly between the new B and A and divided by the run's scale.
 */
public final class ProductAggregation {
    private ProductAggregation() {
    }

    /**
     * @param shards      each shard's factors (ranks may differ: heterogeneous LoRA)
     * @param weights     each shard's weight, non-negative; typically summing to 1
     * @param targetRank  the run's rank r
     * @param targetScale the run's alpha / r
     * @param seed        fills the A rows left unused when the shards' ranks add up to less than r, so they can still train
     */
    public static RefactoredModule aggregate(List<LoraFactors> shards, double[] weights, int targetRank,
            double targetScale, long seed) {
        if (shards.isEmpty()) {
            throw new IllegalArgumentException("no shards to aggregate");
        }
        int in = shards.get(0).in();
        int out = shards.get(0).out();
        int total = 0;
        for (LoraFactors f : shards) {
            if (f.in() != in || f.out() != out) {
                throw new IllegalArgumentException("shards disagree on the module's shape");
            }
            total += f.rank();
        }
        double[][] bColumns = new double[total][];
        double[][] aTransposedColumns = new double[total][];
        int c = 0;
        for (int s = 0; s < shards.size(); s++) {
            LoraFactors f = shards.get(s);
            double root = Math.sqrt(weights[s] * f.scale());
            for (int j = 0; j < f.rank(); j++, c++) {
                double[] bCol = new double[out];
                for (int i = 0; i < out; i++) {
                    bCol[i] = root * f.b()[i * f.rank() + j];
                }
                double[] aRow = new double[in];
                int offset = j * in;
                for (int i = 0; i < in; i++) {
                    aRow[i] = root * f.a()[offset + i];
                }
                bColumns[c] = bCol;
                aTransposedColumns[c] = aRow;
            }
        }
        HouseholderQr qrB = HouseholderQr.factor(bColumns, out);
        HouseholderQr qrA = HouseholderQr.factor(aTransposedColumns, in);
        double[][] core = multiplyByTranspose(qrB.r(), qrA.r(), qrB.size(), qrA.size(), total);
        JacobiSvd svd = JacobiSvd.decompose(core, qrB.size(), qrA.size());
        double[] sigma = svd.singularValues();
        int available = Math.min(qrB.size(), qrA.size());
        int kept = Math.min(targetRank, available);
        double keptEnergy = 0;
        double totalEnergy = 0;
        for (int i = 0; i < available; i++) {
            double e = sigma[i] * sigma[i];
            totalEnergy += e;
            if (i < kept) {
                keptEnergy += e;
            }
        }
        float[] newA = new float[targetRank * in];
        float[] newB = new float[out * targetRank];
        for (int j = 0; j < kept; j++) {
            double root = Math.sqrt(sigma[j] / targetScale);
            double[] bCol = qrB.applyQ(svd.u(j));
            double[] aRow = qrA.applyQ(svd.v(j));
            for (int i = 0; i < out; i++) {
                newB[i * targetRank + j] = (float) (root * bCol[i]);
            }
            for (int i = 0; i < in; i++) {
                newA[j * in + i] = (float) (root * aRow[i]);
            }
        }
        if (kept < targetRank) {
            // B's columns there are zero, so these rows leave the update unchanged; zero rows would never train again
            SplittableRandom random = new SplittableRandom(seed);
            double bound = 1 / Math.sqrt(in);
            for (int i = kept * in; i < newA.length; i++) {
                newA[i] = (float) random.nextDouble(-bound, bound);
            }
        }
        return new RefactoredModule(new LoraFactors(newA, newB, targetRank, in, out, targetScale), keptEnergy,
                totalEnergy);
    }

    /** X·Yᵀ for X (xRows×n) and Y (yRows×n), both upper trapezoidal rows. */
    private static double[][] multiplyByTranspose(double[][] x, double[][] y, int xRows, int yRows, int n) {
        double[][] product = new double[xRows][yRows];
        for (int i = 0; i < xRows; i++) {
            for (int j = 0; j < yRows; j++) {
                double sum = 0;
                for (int k = Math.max(i, j); k < n; k++) {
                    sum += x[i][k] * y[j][k];
                }
                product[i][j] = sum;
            }
        }
        return product;
    }
}
