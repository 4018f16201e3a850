package io.fedtune.api.contract;

/**
 * A shard update the aggregator refused. Reasons: Missing, ChecksumMismatch, Malformed, WrongShape,
 * WrongRank, NonFinite, NormOutlier, FrozenAMismatch (FFA: A differs from the shared frozen A).
 */
public record Refusal(String shard, String reason, String message) {
}
