package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Linear layers of a decoder that LoRA can adapt. Llama, Mistral and Qwen have q_proj, k_proj, v_proj, o_proj,
 * gate_proj, up_proj and down_proj; Phi-3 fuses q, k and v into qkv_proj and gate and up into gate_up_proj. The trainer
 * fails a shard with CheckpointInvalid when a target is not a module of the base model.
 */
public enum TargetModule {
    @JsonProperty("q_proj") Q_PROJ,
    @JsonProperty("k_proj") K_PROJ,
    @JsonProperty("v_proj") V_PROJ,
    @JsonProperty("qkv_proj") QKV_PROJ,
    @JsonProperty("o_proj") O_PROJ,
    @JsonProperty("gate_proj") GATE_PROJ,
    @JsonProperty("up_proj") UP_PROJ,
    @JsonProperty("gate_up_proj") GATE_UP_PROJ,
    @JsonProperty("down_proj") DOWN_PROJ;

    /** The module's name as Hugging Face checkpoints and PEFT write it. */
    public String moduleName() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
