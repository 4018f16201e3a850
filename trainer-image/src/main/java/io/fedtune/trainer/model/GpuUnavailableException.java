package io.fedtune.trainer.model;

/** The pod asked for a GPU and has none it can use; the message says what was seen. */
public final class GpuUnavailableException extends RuntimeException {
    public GpuUnavailableException(String message) {
        super(message);
    }
}
