package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** Shard counts for the current round. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ShardCounts {

    @JsonPropertyDescription("ClientShards the selector matches that are not paused.")
    public Integer eligible;

    @JsonPropertyDescription("Matched ClientShards that are paused.")
    public Integer paused;

    @JsonPropertyDescription("Shards sampled for the current round.")
    public Integer selected;

    @JsonPropertyDescription("Trainer pods of the current round not yet finished.")
    public Integer running;

    @JsonPropertyDescription("Shards of the current round whose trainer succeeded.")
    public Integer succeeded;

    @JsonPropertyDescription("Shards of the current round whose trainer failed for good or was cut.")
    public Integer failed;
}
