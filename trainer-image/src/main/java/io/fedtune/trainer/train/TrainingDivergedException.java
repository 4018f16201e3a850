package io.fedtune.trainer.train;

/** Training produced no usable step: every gradient norm was non-finite. */
public class TrainingDivergedException extends RuntimeException {
    public TrainingDivergedException(String message) {
        super(message);
    }
}
