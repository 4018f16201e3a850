package io.fedtune.trainer.train;

/** Settings of one round of local training. */
public record TrainingOptions(int steps, int batchSize, double learningRate, double weightDecay, double gradientClipNorm,
                              double proximalMu, boolean freezeA, long seed) {
    public TrainingOptions {
        if (steps < 1 || batchSize < 1) {
            throw new IllegalArgumentException("steps and batch size must be >= 1");
        }
        if (!(learningRate > 0) || !(gradientClipNorm > 0) || proximalMu < 0 || weightDecay < 0) {
            throw new IllegalArgumentException("learning rate and clip norm must be > 0; mu and weight decay >= 0");
        }
    }
}
