package io.fedtune.trainer.adapter;

import java.io.IOException;

/** An adapter that is malformed, or whose rank, modules or shapes do not fit what it is used with. */
public class AdapterMismatchException extends IOException {
    public AdapterMismatchException(String message) {
        super(message);
    }
}
