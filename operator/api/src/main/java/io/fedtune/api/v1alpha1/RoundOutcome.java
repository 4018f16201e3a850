package io.fedtune.api.v1alpha1;

/** How a round ended. */
public enum RoundOutcome {
    /** Aggregated and adopted as the new global adapter. */
    Completed,
    /** Aggregated, but worse than the best: the next round starts from the best adapter. */
    RolledBack,
    /** Too few shard updates, or aggregation failed for good. */
    Failed
}
