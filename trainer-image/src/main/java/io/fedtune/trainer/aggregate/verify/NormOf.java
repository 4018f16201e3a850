package io.fedtune.trainer.aggregate.verify;

/** Which part of an adapter makes up "the update" whose norm is measured. */
public enum NormOf {
    /** All factors, coordinate-wise against the previous global adapter (FedAvg). */
    FACTORS,
    /** B only: A is frozen and shared (FFA). */
    B_FACTORS,
    /** The weight update s·B·A against the previous global one (ExactProduct). */
    PRODUCT
}
