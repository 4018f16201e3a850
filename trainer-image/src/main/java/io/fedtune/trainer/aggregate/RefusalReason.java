package io.fedtune.trainer.aggregate;

/** Why a shard's update was left out of the round: the machine-readable reason of a {@link io.fedtune.api.contract.Refusal}. */
public enum RefusalReason {
    /** The adapter's directory or one of its files is absent. */
    Missing,
    /** The weights' SHA-256 differs from what the trainer reported or its manifest lists. */
    ChecksumMismatch,
    /** Not a readable PEFT adapter: bad safetensors header, truncated data, unreadable adapter_config.json. */
    Malformed,
    /** Tensor names or shapes differ from what the run's model and target modules need. */
    WrongShape,
    /** The LoRA rank differs from the run's (or from what the shard reported). */
    WrongRank,
    /** A value is NaN or infinite. */
    NonFinite,
    /** The update's norm is above the round's bound. */
    NormOutlier,
    /** FFA: the frozen A factor differs from the shared one. */
    FrozenAMismatch
}
