package io.fedtune.trainer.aggregate.combine;

/**
 * One shard's factors of one adapted module: A is rank×in and B is out×rank, both row-major;
 * the module's weight update is {@code scale·B·A} with {@code scale = alpha / rank}.
 */
public record LoraFactors(float[] a, float[] b, int rank, int in, int out, double scale) {
    public LoraFactors {
        if (a.length != (long) rank * in || b.length != (long) out * rank) {
            throw new IllegalArgumentException("A must be " + rank + "x" + in + " and B " + out + "x" + rank);
        }
    }
}
