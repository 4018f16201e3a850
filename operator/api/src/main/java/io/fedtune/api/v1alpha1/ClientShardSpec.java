package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;

/** A data owner's dataset and how its trainer pods run. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ClientShardSpec {

    @Required
    @JsonPropertyDescription("The shard's data and the Secret that reads it.")
    public ShardDataSpec data;

    @JsonPropertyDescription("Pod settings at this site (e.g. its GPU pool); override the run's spec.trainer field by field.")
    public PodOverrides trainer;

    @Default("1")
    @Min(value = 0, inclusive = false)
    @Max(1000)
    @JsonPropertyDescription("Multiplier (0, 1000] on this shard's aggregation weight. Default 1.")
    public Double weight = 1.0;

    @Min(1)
    @Max(256)
    @JsonPropertyDescription("LoRA rank for this shard's trainer (heterogeneous LoRA, with aggregation strategy ExactProduct). "
            + "Absent: the run's spec.lora.rank.")
    public Integer loraRank;

    @Default("false")
    @JsonPropertyDescription("A paused shard is left out of new rounds; a round it is in finishes. Default false.")
    public Boolean paused = false;
}
