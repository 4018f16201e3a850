package io.fedtune.api.v1alpha1;

/** What happens to an update whose norm exceeds the bound. */
public enum NormBoundMode {
    Off,
    /** Scale the update down to the bound. */
    Clip,
    /** Refuse the update for this round. */
    Refuse
}
