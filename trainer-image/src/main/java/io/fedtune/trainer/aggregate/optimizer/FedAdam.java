package io.fedtune.trainer.aggregate.optimizer;

import io.fedtune.api.v1alpha1.ServerOptimizerSpec;

/** v ← β₂v + (1−β₂)Δ², step m / (√v + τ). */
public final class FedAdam extends ServerOptimizerRule {
    FedAdam(ServerOptimizerSpec spec) {
        super(spec);
    }

    @Override
    protected double moveAt(int j, double delta, float[] m, float[] v) {
        double mj = firstMoment(j, delta, m);
        double vj = beta2 * v[j] + (1 - beta2) * delta * delta;
        v[j] = (float) vj;
        return mj / (Math.sqrt(vj) + tau);
    }
}
