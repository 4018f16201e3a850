package io.fedtune.trainer.aggregate.optimizer;

import io.fedtune.api.v1alpha1.ServerOptimizer;
import io.fedtune.api.v1alpha1.ServerOptimizerSpec;

/**
 * A server optimizer from Reddi et al. 2021, "Adaptive Federated Optimization", applied to one tensor: the
 * pseudo-gradient is {@code Δ = aggregate − previous global}, and the new global is {@code previous + η·step(Δ)}.
 * Bias correction is not applied, as in the paper.
 */
public abstract sealed class ServerOptimizerRule permits FedAvgM, FedAdam, FedYogi, FedAdagrad {
    protected final double learningRate;
    protected final double beta1;
    protected final double beta2;
    protected final double tau;

    protected ServerOptimizerRule(ServerOptimizerSpec spec) {
        this.learningRate = spec.learningRate;
        this.beta1 = spec.beta1;
        this.beta2 = spec.beta2;
        this.tau = spec.tau;
    }

    /** The rule for a spec, or null for {@link ServerOptimizer#None}. */
    public static ServerOptimizerRule of(ServerOptimizerSpec spec) {
        return switch (spec.type) {
            case None -> null;
            case FedAvgM -> new FedAvgM(spec);
            case FedAdam -> new FedAdam(spec);
            case FedYogi -> new FedYogi(spec);
            case FedAdagrad -> new FedAdagrad(spec);
        };
    }

    public MomentState initialState(int size) {
        return MomentState.initial(size, tau);
    }

    /**
     * Updates {@code state} in place and writes the new global tensor into {@code out}.
     *
     * @param previous  the previous global tensor
     * @param aggregate this round's aggregate of the same tensor
     */
    public void step(float[] previous, float[] aggregate, MomentState state, float[] out) {
        float[] m = state.m();
        float[] v = state.v();
        for (int j = 0; j < out.length; j++) {
            double delta = (double) aggregate[j] - previous[j];
            out[j] = (float) (previous[j] + learningRate * moveAt(j, delta, m, v));
        }
    }

    /** Updates the moments at coordinate j with pseudo-gradient delta; returns the step before the learning rate. */
    protected abstract double moveAt(int j, double delta, float[] m, float[] v);

    /** m ← β₁m + (1−β₁)Δ, shared by the adaptive rules. */
    protected double firstMoment(int j, double delta, float[] m) {
        double mj = beta1 * m[j] + (1 - beta1) * delta;
        m[j] = (float) mj;
        return mj;
    }
}
