package io.fedtune.api.v1alpha1;

/**
 * How the frozen base model's decoder-layer projection weights are held in memory while a shard trains (QLoRA-style):
 * dequantized layer by layer to the compute precision just before each matmul; the adapter stays in the compute
 * precision. Norms, embeddings and the LM head are never quantized.
 */
public enum BaseQuantization {
    /** The base in the compute precision (FP32 or BF16). */
    None,
    /** int8, one symmetric absmax scale per output channel (row). */
    Int8,
    /** int4, two per byte, one symmetric absmax scale per group of 64 input features; needs in_features divisible by 64. */
    Int4
}
