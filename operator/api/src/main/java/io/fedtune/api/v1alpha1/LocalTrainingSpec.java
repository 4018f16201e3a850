package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/** One round of local training on one shard. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = "!(has(self.steps) && has(self.epochs))",
        message = "spec.training: set either steps or epochs, not both")
public class LocalTrainingSpec {

    /** Used when neither steps nor epochs is set. */
    public static final int DEFAULT_STEPS = 50;

    @Min(1)
    @Max(1000000)
    @JsonPropertyDescription("Optimizer steps per round on each shard. Exclusive with epochs; when neither is set, 50 steps.")
    public Integer steps;

    @Min(1)
    @Max(1000)
    @JsonPropertyDescription("Passes over the shard's training data per round. Exclusive with steps.")
    public Integer epochs;

    @Default("8")
    @Min(1)
    @Max(4096)
    @JsonPropertyDescription("Sequences per optimizer step (1..4096). Default 8.")
    public Integer batchSize = 8;

    @Default("0.0003")
    @Min(value = 0, inclusive = false)
    @Max(1)
    @JsonPropertyDescription("AdamW learning rate for the adapter, > 0 and at most 1. Default 3e-4.")
    public Double learningRate = 3e-4;

    @Default("0")
    @Min(0)
    @JsonPropertyDescription("AdamW decoupled weight decay on the adapter, >= 0. Default 0.")
    public Double weightDecay = 0.0;

    @Default("256")
    @Min(16)
    @Max(131072)
    @JsonPropertyDescription("Maximum sequence length in tokens (16..131072); longer documents are chunked at paragraph boundaries. Default 256.")
    public Integer maxSequenceLength = 256;

    @Default("Auto")
    @JsonPropertyDescription("Training precision: Auto (bf16 on GPU, fp32 on CPU), FP32 or BF16. Default Auto.")
    public Precision precision = Precision.Auto;

    @Default("None")
    @JsonPropertyDescription("QLoRA-style quantized base for shards with little memory: None, Int8 (per-output-channel "
            + "scales) or Int4 (scales per group of 64 input features; every projection's input size must be a multiple of "
            + "64). The decoder layers' projection weights are held quantized and dequantized layer by layer; layers are "
            + "recomputed in backward so the dequantized weights are never all alive at once. Costs speed and a little "
            + "accuracy. Default None.")
    public BaseQuantization baseQuantization = BaseQuantization.None;

    @Default("0")
    @Min(0)
    @JsonPropertyDescription("Seed for data order, dropout and adapter initialisation; with one CPU thread a round is bit-for-bit repeatable. Default 0.")
    public Long seed = 0L;

    @Default("0")
    @Min(0)
    @JsonPropertyDescription("FedProx proximal term mu >= 0: adds mu/2·||adapter - global||² to the local loss. 0 turns it off. Default 0.")
    public Double proximalMu = 0.0;

    @Default("1")
    @Min(value = 0, inclusive = false)
    @JsonPropertyDescription("Global gradient-norm clipping threshold, > 0. Default 1.0.")
    public Double gradientClipNorm = 1.0;

    @Default("0.1")
    @Min(value = 0, inclusive = false)
    @Max(value = 1, inclusive = false)
    @JsonPropertyDescription("Fraction of a shard's data held out for its local evaluation, in (0, 1). Default 0.1.")
    public Double evalFraction = 0.1;

    @Default("0")
    @Min(0)
    @Max(16)
    @JsonPropertyDescription("In-context fine-tuning: k demonstrations drawn (seeded) from the shard's own training records are "
            + "prepended to each training example, without loss on them, as many as fit within maxSequenceLength (0..16). "
            + "0 turns it off. Default 0.")
    public Integer inContextExamples = 0;
}
