package io.fedtune.trainer.train;

/**
 * Settings of one round of local training.
 *
 * @param recomputeLayers keep only each decoder layer's input from the forward pass and recompute the layer in
 *                        backward (activation checkpointing); always on over a quantized base
 */
public record TrainingOptions(int steps, int batchSize, double learningRate, double weightDecay, double gradientClipNorm,
                              double proximalMu, boolean freezeA, long seed, boolean recomputeLayers) {
    public TrainingOptions {
        if (steps < 1 || batchSize < 1) {
            throw new IllegalArgumentException("steps and batch size must be >= 1");
        }
        if (!(learningRate > 0) || !(gradientClipNorm > 0) || proximalMu < 0 || weightDecay < 0) {
            throw new IllegalArgumentException("learning rate and clip norm must be > 0; mu and weight decay >= 0");
        }
    }

    public TrainingOptions(int steps, int batchSize, double learningRate, double weightDecay, double gradientClipNorm,
                           double proximalMu, boolean freezeA, long seed) {
        this(steps, batchSize, learningRate, weightDecay, gradientClipNorm, proximalMu, freezeA, seed, false);
    }

    public TrainingOptions withRecomputeLayers(boolean recompute) {
        return new TrainingOptions(steps, batchSize, learningRate, weightDecay, gradientClipNorm, proximalMu, freezeA, seed,
                recompute);
    }
}
