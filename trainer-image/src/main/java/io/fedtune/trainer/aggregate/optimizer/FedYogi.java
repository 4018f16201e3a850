package io.fedtune.trainer.aggregate.optimizer;

import io.fedtune.api.v1alpha1.ServerOptimizerSpec;

/** v ← v − (1−β₂)Δ²·sign(v − Δ²), step m / (√v + τ): v grows no faster than Δ² does. */
public final class FedYogi extends ServerOptimizerRule {
    FedYogi(ServerOptimizerSpec spec) {
        super(spec);
    }

    @Override
    protected double moveAt(int j, double delta, float[] m, float[] v) {
        double mj = firstMoment(j, delta, m);
        double d2 = delta * delta;
        double vj = v[j] - (1 - beta2) * d2 * Math.signum(v[j] - d2);
        v[j] = (float) vj;
        return mj / (Math.sqrt(vj) + tau);
    }
}
