package io.fedtune.trainer.aggregate.optimizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.fedtune.api.v1alpha1.ServerOptimizer;
import io.fedtune.api.v1alpha1.ServerOptimizerSpec;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class ServerOptimizerRuleTest {

    /** Reddi et al. 2021, Algorithm 2, written out per coordinate in double precision. */
    private static double[] reference(ServerOptimizer type, ServerOptimizerSpec spec, double[] x0, double[][] aggregates) {
        double[] x = x0.clone();
        double[] m = new double[x.length];
        double[] v = new double[x.length];
        java.util.Arrays.fill(v, spec.tau * spec.tau);
        for (double[] agg : aggregates) {
            for (int j = 0; j < x.length; j++) {
                double d = agg[j] - x[j];
                double step;
                if (type == ServerOptimizer.FedAvgM) {
                    m[j] = spec.beta1 * m[j] + d;
                    step = m[j];
                } else {
                    m[j] = spec.beta1 * m[j] + (1 - spec.beta1) * d;
                    switch (type) {
                        case FedAdagrad -> v[j] = v[j] + d * d;
                        case FedAdam -> v[j] = spec.beta2 * v[j] + (1 - spec.beta2) * d * d;
                        case FedYogi -> v[j] = v[j] - (1 - spec.beta2) * d * d * Math.signum(v[j] - d * d);
                        default -> throw new IllegalStateException();
                    }
                    step = m[j] / (Math.sqrt(v[j]) + spec.tau);
                }
                x[j] = x[j] + spec.learningRate * step;
            }
        }
        return x;
    }

    @ParameterizedTest
    @EnumSource(value = ServerOptimizer.class, names = {"FedAvgM", "FedAdam", "FedYogi", "FedAdagrad"})
    void twoRoundsMatchThePapersUpdateRule(ServerOptimizer type) {
        ServerOptimizerSpec spec = new ServerOptimizerSpec();
        spec.type = type;
        spec.learningRate = 0.3;
        spec.beta1 = 0.8;
        spec.beta2 = 0.95;
        spec.tau = 0.01;
        double[] x0 = {0.5, -0.2, 0.0, 1.5, -3.0};
        double[][] aggregates = {{0.6, -0.1, 0.02, 1.0, -2.0}, {0.4, -0.3, 0.05, 1.2, -2.5}};
        double[] expected = reference(type, spec, x0, aggregates);

        ServerOptimizerRule rule = ServerOptimizerRule.of(spec);
        MomentState state = rule.initialState(x0.length);
        float[] global = toFloats(x0);
        for (double[] agg : aggregates) {
            float[] next = new float[global.length];
            rule.step(global, toFloats(agg), state, next);
            global = next;
        }
        for (int j = 0; j < x0.length; j++) {
            assertThat((double) global[j]).isCloseTo(expected[j], within(1e-5 * Math.max(1, Math.abs(expected[j]))));
        }
        // the rule moved away from plain averaging, so this test could tell a wrong rule from "take the aggregate"
        assertThat((double) global[3]).isNotCloseTo(aggregates[1][3], within(1e-3));
    }

    @ParameterizedTest
    @EnumSource(value = ServerOptimizer.class, names = {"FedAvgM", "FedAdam", "FedYogi", "FedAdagrad"})
    void stateCarriesOverBetweenRounds(ServerOptimizer type) {
        ServerOptimizerSpec spec = new ServerOptimizerSpec();
        spec.type = type;
        ServerOptimizerRule rule = ServerOptimizerRule.of(spec);
        float[] prev = {0f};
        float[] agg = {1f};
        MomentState fresh = rule.initialState(1);
        MomentState used = rule.initialState(1);
        float[] out = new float[1];
        rule.step(prev, agg, used, out);
        float[] withState = new float[1];
        float[] withoutState = new float[1];
        rule.step(prev, agg, used, withState);
        rule.step(prev, agg, fresh, withoutState);
        assertThat(withState[0]).isNotEqualTo(withoutState[0]);
    }

    private static float[] toFloats(double[] x) {
        float[] f = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            f[i] = (float) x[i];
        }
        return f;
    }
}
