package io.fedtune.api.v1alpha1;

/** Numeric precision of local training. */
public enum Precision {
    /** bf16 where a GPU is present, fp32 on CPU. */
    Auto,
    FP32,
    BF16
}
