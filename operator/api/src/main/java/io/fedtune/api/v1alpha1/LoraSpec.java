package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.Size;
import io.fabric8.generator.annotation.ValidationRule;
import java.util.List;

/** The LoRA adapter's shape. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class LoraSpec {

    @Default("8")
    @Min(1)
    @Max(256)
    @JsonPropertyDescription("LoRA rank r: inner dimension of the A [r, in] and B [out, r] factors (1..256). Default 8.")
    public Integer rank = 8;

    @Default("16")
    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("LoRA alpha; the update B·A is scaled by alpha / rank. Must be > 0. Default 16.")
    public Double alpha = 16.0;

    @Default("0.05")
    @Min(0)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Dropout probability on the LoRA input during training, in [0, 1). Default 0.05.")
    public Double dropout = 0.05;

    @Default("[\"q_proj\", \"v_proj\"]")
    @Size(min = 1, max = 7)
    @ValidationRule(value = "self.all(m, self.exists_one(n, n == m))", message = "spec.lora.targetModules must not repeat a module")
    @JsonPropertyDescription("Linear layers that get an adapter, as the base model names them: q_proj, k_proj, v_proj, o_proj, "
            + "gate_proj, up_proj, down_proj for Llama, Mistral and Qwen; qkv_proj, o_proj, gate_up_proj, down_proj for Phi-3 "
            + "(fused). A module the base model does not have fails the shard with CheckpointInvalid. Default [q_proj, v_proj].")
    public List<TargetModule> targetModules = List.of(TargetModule.Q_PROJ, TargetModule.V_PROJ);

    @Default("false")
    @JsonPropertyDescription("FFA-LoRA: keep A frozen at a value seeded by the run, identical on every shard, and train only B; "
            + "averaging B is then exact. Required by aggregation strategy FFA. Default false.")
    public Boolean freezeA = false;
}
