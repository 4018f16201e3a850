package io.fedtune.api.v1alpha1;

/** Optimizer the server applies to the round's pseudo-gradient (Reddi et al., Adaptive Federated Optimization). */
public enum ServerOptimizer {
    /** The aggregate becomes the global adapter as it is. */
    None,
    FedAvgM,
    FedAdam,
    FedYogi,
    FedAdagrad
}
