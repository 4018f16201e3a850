package io.fedtune.trainer.aggregate.optimizer;

import io.fedtune.api.v1alpha1.ServerOptimizerSpec;

/** Server momentum (Hsu et al. 2019): m ← β₁m + Δ, step m. */
public final class FedAvgM extends ServerOptimizerRule {
    FedAvgM(ServerOptimizerSpec spec) {
        super(spec);
    }

    @Override
    protected double moveAt(int j, double delta, float[] m, float[] v) {
        double mj = beta1 * m[j] + delta;
        m[j] = (float) mj;
        return mj;
    }
}
