package io.fedtune.api.contract;

/** How a trainer or aggregation container ended. */
public enum Outcome {
    Succeeded,
    Failed
}
