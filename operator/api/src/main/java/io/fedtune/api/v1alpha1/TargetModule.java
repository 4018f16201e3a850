package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/** Linear layers of a Llama-family decoder that LoRA can adapt. */
public enum TargetModule {
    @JsonProperty("q_proj") Q_PROJ,
    @JsonProperty("k_proj") K_PROJ,
    @JsonProperty("v_proj") V_PROJ,
    @JsonProperty("o_proj") O_PROJ,
    @JsonProperty("gate_proj") GATE_PROJ,
    @JsonProperty("up_proj") UP_PROJ,
    @JsonProperty("down_proj") DOWN_PROJ;

    /** The module's name as Hugging Face checkpoints and PEFT write it. */
    public String moduleName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
