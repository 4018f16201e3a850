package io.fedtune.api.v1alpha1;

/** How shard adapters become the next global adapter. */
public enum AggregationStrategy {
    /** Average A and B separately (the common baseline; not the average of the updates B·A). */
    FedAvg,
    /** FFA-LoRA: A is frozen and shared, B is averaged; exact. Needs lora.freezeA. */
    FFA,
    /** Weighted sum of the shards' B·A, factored back to the run's rank by QR and a small SVD. */
    ExactProduct
}
