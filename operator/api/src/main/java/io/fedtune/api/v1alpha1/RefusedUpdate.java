package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** A shard update the aggregator refused, and why. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class RefusedUpdate {

    @JsonPropertyDescription("The ClientShard.")
    public String shard;

    @JsonPropertyDescription("Machine-readable reason, Missing, ChecksumMismatch, Malformed, WrongShape, WrongRank, NonFinite, NormOutlier or FrozenAMismatch.")
    public String reason;

    @JsonPropertyDescription("What was wrong, for people.")
    public String message;

    public RefusedUpdate() {
    }

    public RefusedUpdate(String shard, String reason, String message) {
        this.shard = shard;
        this.reason = reason;
        this.message = message;
    }
}
