package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Pattern;
import io.fabric8.generator.annotation.Required;

/** Where the base model lives. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class BaseModelSpec {

    @Required
    @Pattern(Patterns.S3_URI)
    @JsonPropertyDescription("s3:// prefix holding a Hugging Face checkpoint: config.json, model.safetensors "
            + "(or a sharded index) and tokenizer.json. Read with the run's storage credentials.")
    public String uri;

    @Pattern("^[a-f0-9]{64}$")
    @JsonPropertyDescription("Optional SHA-256 (hex) of model.safetensors; trainers refuse a checkpoint that does not match.")
    public String sha256;
}
