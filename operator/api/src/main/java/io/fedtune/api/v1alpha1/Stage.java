package io.fedtune.api.v1alpha1;

/** Step of the current round. */
public enum Stage {
    Preparing,
    Training,
    Aggregating,
    Publishing,
    Idle
}
