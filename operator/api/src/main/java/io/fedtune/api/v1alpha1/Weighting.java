package io.fedtune.api.v1alpha1;

/** How much each accepted shard update counts. */
public enum Weighting {
    /** Proportional to the shard's training samples (times its spec.weight). */
    Samples,
    /** Equal weight for every shard (times its spec.weight). */
    Uniform
}
