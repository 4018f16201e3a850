package io.fedtune.trainer.aggregate.optimizer;

/** A server optimizer's state for one tensor: first moment m and second moment v (v unused by FedAvgM). */
public record MomentState(float[] m, float[] v) {
    /** The state before the first step: m = 0 and v = τ² (Reddi et al. 2021, Algorithm 2: v₋₁ ≥ τ²). */
    public static MomentState initial(int size, double tau) {
        float[] v = new float[size];
        java.util.Arrays.fill(v, (float) (tau * tau));
        return new MomentState(new float[size], v);
    }
}
