package io.fedtune.api.contract;

/** A shard update the aggregator refused. Reasons: ChecksumMismatch, Malformed, WrongShape, WrongRank, NonFinite, NormOutlier, Missing. */
public record Refusal(String shard, String reason, String message) {
}
