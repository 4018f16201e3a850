package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;

/** The immutable part of the spec as the run started; a later spec that differs is refused. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class StartedWith {

    @JsonPropertyDescription("spec.baseModel at the start of the run.")
    public BaseModelSpec baseModel;

    @JsonPropertyDescription("spec.lora at the start of the run.")
    public LoraSpec lora;
}
