package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Required;
import io.fabric8.generator.annotation.ValidationRule;

/** What a federated run trains, on whom, how often, and where its adapters go. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "self.aggregation.strategy != 'FFA' || self.lora.freezeA",
        message = "spec.aggregation.strategy FFA needs spec.lora.freezeA: true (FFA-LoRA averages B over a shared frozen A)")
@ValidationRule(value = "!has(self.participation.maxShardsPerRound) || self.participation.minShards <= self.participation.maxShardsPerRound",
        message = "spec.participation.minShards must not exceed spec.participation.maxShardsPerRound")
public class FederatedRunSpec {

    @Required
    @ValidationRule(value = "self == oldSelf", message = "spec.baseModel is immutable: create a new FederatedRun to change the base model")
    @JsonPropertyDescription("The base model every shard fine-tunes: a Hugging Face checkpoint in object storage. Immutable.")
    public BaseModelSpec baseModel;

    @Default("{}")
    @ValidationRule(value = "self == oldSelf", message = "spec.lora is immutable: adapters of different shapes cannot be aggregated")
    @JsonPropertyDescription("The LoRA adapter's shape: rank, alpha, dropout and target modules. Immutable.")
    public LoraSpec lora = new LoraSpec();

    @Required
    @Min(1)
    @Max(10000)
    @JsonPropertyDescription("Number of federated rounds to run (1..10000). Raising it on a finished run continues it.")
    public Integer rounds;

    @Default("{}")
    @JsonPropertyDescription("Local training that each shard's trainer does in one round.")
    public LocalTrainingSpec training = new LocalTrainingSpec();

    @Default("{}")
    @JsonPropertyDescription("How the shards' adapters are combined into the next global adapter.")
    public AggregationSpec aggregation = new AggregationSpec();

    @Default("{}")
    @JsonPropertyDescription("Which ClientShards take part, how many per round, and how failures are tolerated.")
    public ParticipationSpec participation = new ParticipationSpec();

    @Default("{}")
    @JsonPropertyDescription("Global evaluation after each round, rollback on regression and early stopping.")
    public EvaluationSpec evaluation = new EvaluationSpec();

    @Required
    @JsonPropertyDescription("Object storage for the run's adapters, manifests and optimizer state.")
    public StorageSpec storage;

    @JsonPropertyDescription("Pod settings for the trainer pods; a ClientShard's own spec.trainer overrides them field by field.")
    public PodOverrides trainer;

    @JsonPropertyDescription("Pod settings for the aggregation pod.")
    public PodOverrides aggregator;

    @Default("false")
    @JsonPropertyDescription("Pauses the run between rounds when true; the round in progress finishes first. Default false.")
    public Boolean suspend = false;
}
