package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Where a shard's data is, and the credentials that read it. Only that shard's trainer pods get them. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class ShardDataSpec {

    @Pattern(Patterns.ENDPOINT)
    @JsonPropertyDescription("S3 endpoint of the shard's silo: scheme, host and port only, e.g. https://s3.site-a.example (no path: "
            + "keys go in the data URIs). Absent: the run's storage endpoint.")
    public String endpoint;

    @Required
    @JsonPropertyDescription("Secret with the credentials that read this shard's data.")
    public SecretKeys credentialsSecret;

    @Required
    @JsonPropertyDescription("Training data.")
    public DatasetRef train;

    @JsonPropertyDescription("Local evaluation data, scored by its task before and after each round's training (the global "
            + "adapter the round started from, then the shard's own). Absent: training.evalFraction of the training data is "
            + "held out and scored as LanguageModeling.")
    public TaskDataset eval;
}
