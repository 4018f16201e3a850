package io.fedtune.api.contract;

/** Why the aggregator refused a shard's update; a refused update is never averaged in (CONTRACT.md). */
public enum RefusalReason {
    Missing,
    ChecksumMismatch,
    Malformed,
    WrongShape,
    WrongRank,
    NonFinite,
    NormOutlier,
    /** FFA: the update's A differs from the shared frozen A. */
    FrozenAMismatch
}
