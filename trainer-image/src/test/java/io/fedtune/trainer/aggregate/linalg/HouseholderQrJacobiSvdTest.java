package io.fedtune.trainer.aggregate.linalg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class HouseholderQrJacobiSvdTest {
    private final Random random = new Random(7);

    private double[][] randomColumns(int m, int n) {
        double[][] c = new double[n][m];
        for (double[] col : c) {
            for (int i = 0; i < m; i++) {
                col[i] = random.nextGaussian();
            }
        }
        return c;
    }

    @Test
    void qrReconstructsTheMatrixWithOrthonormalQ() {
        int m = 40;
        int n = 7;
        double[][] original = randomColumns(m, n);
        double[][] work = new double[n][];
        for (int j = 0; j < n; j++) {
            work[j] = original[j].clone();
        }
        HouseholderQr qr = HouseholderQr.factor(work, m);
        double[][] q = new double[n][];
        for (int j = 0; j < n; j++) {
            double[] e = new double[n];
            e[j] = 1;
            q[j] = qr.applyQ(e);
        }
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) {
                double dot = 0;
                for (int i = 0; i < m; i++) {
                    dot += q[a][i] * q[b][i];
                }
                assertThat(dot).isCloseTo(a == b ? 1 : 0, within(1e-12));
            }
        }
        double[][] r = qr.r();
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double sum = 0;
                for (int k = 0; k <= j; k++) {
                    sum += q[k][i] * r[k][j];
                }
                assertThat(sum).isCloseTo(original[j][i], within(1e-12));
            }
            for (int k = j + 1; k < n; k++) {
                assertThat(r[k][j]).isZero();
            }
        }
    }

    @Test
    void qrOfAWideMatrixKeepsMinDimension() {
        double[][] cols = randomColumns(3, 5);
        HouseholderQr qr = HouseholderQr.factor(cols, 3);
        assertThat(qr.size()).isEqualTo(3);
        assertThat(qr.r()).hasNumberOfRows(3);
    }

    @Test
    void svdReconstructsWithOrthonormalFactorsAndDescendingValues() {
        for (int[] shape : new int[][] {{9, 5}, {5, 9}, {6, 6}}) {
            int rows = shape[0];
            int cols = shape[1];
            double[][] a = new double[rows][cols];
            for (double[] row : a) {
                for (int j = 0; j < cols; j++) {
                    row[j] = random.nextGaussian();
                }
            }
            JacobiSvd svd = JacobiSvd.decompose(a, rows, cols);
            double[] s = svd.singularValues();
            int k = Math.min(rows, cols);
            for (int i = 1; i < k; i++) {
                assertThat(s[i]).isLessThanOrEqualTo(s[i - 1]);
            }
            for (int i = 0; i < rows; i++) {
                for (int j = 0; j < cols; j++) {
                    double sum = 0;
                    for (int t = 0; t < k; t++) {
                        sum += svd.u(t)[i] * s[t] * svd.v(t)[j];
                    }
                    assertThat(sum).isCloseTo(a[i][j], within(1e-12));
                }
            }
            for (int x = 0; x < k; x++) {
                for (int y = 0; y < k; y++) {
                    double uu = 0;
                    double vv = 0;
                    for (int i = 0; i < rows; i++) {
                        uu += svd.u(x)[i] * svd.u(y)[i];
                    }
                    for (int j = 0; j < cols; j++) {
                        vv += svd.v(x)[j] * svd.v(y)[j];
                    }
                    assertThat(uu).isCloseTo(x == y ? 1 : 0, within(1e-12));
                    assertThat(vv).isCloseTo(x == y ? 1 : 0, within(1e-12));
                }
            }
        }
    }

    @Test
    void svdOfARankDeficientMatrixHasZeroTail() {
        // rank 1: outer product
        double[][] a = new double[4][3];
        double[] x = {1, 2, 3, 4};
        double[] y = {2, -1, 0.5};
        for (int i = 0; i < 4; i++) {
            for (int j = 0; j < 3; j++) {
                a[i][j] = x[i] * y[j];
            }
        }
        double[] s = JacobiSvd.decompose(a, 4, 3).singularValues();
        assertThat(s[0]).isCloseTo(Math.sqrt(30) * Math.sqrt(5.25), within(1e-12));
        assertThat(s[1]).isCloseTo(0, within(1e-12));
        assertThat(s[2]).isCloseTo(0, within(1e-12));
    }
}
