package io.fedtune.trainer.safetensors;

import java.io.IOException;

/** A file that is not valid safetensors, or a tensor that does not match what was asked for. */
public class SafetensorsFormatException extends IOException {
    public SafetensorsFormatException(String message) {
        super(message);
    }

    public SafetensorsFormatException(String message, Throwable cause) {
        super(message, cause);
    }
}
