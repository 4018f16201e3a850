package io.fedtune.trainer.model;

import java.io.IOException;

/** A base checkpoint that is missing, corrupt, of an unsupported architecture or inconsistent with its config. */
public class CheckpointInvalidException extends IOException {
    public CheckpointInvalidException(String message) {
        super(message);
    }

    public CheckpointInvalidException(String message, Throwable cause) {
        super(message, cause);
    }
}
