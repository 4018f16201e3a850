package io.fedtune.trainer.aggregate.optimizer;

import io.fedtune.api.v1alpha1.ServerOptimizerSpec;

/** v ← v + Δ², step m / (√v + τ). */
public final class FedAdagrad extends ServerOptimizerRule {
    FedAdagrad(ServerOptimizerSpec spec) {
        super(spec);
    }

    @Override
    protected double moveAt(int j, double delta, float[] m, float[] v) {
        double mj = firstMoment(j, delta, m);
        double vj = v[j] + delta * delta;
        v[j] = (float) vj;
        return mj / (Math.sqrt(vj) + tau);
    }
}
