package io.fedtune.api.v1alpha1;

/** Where a run is in its life; the conditions say why. */
public enum Phase {
    Pending,
    Running,
    Suspended,
    Succeeded,
    Failed
}
