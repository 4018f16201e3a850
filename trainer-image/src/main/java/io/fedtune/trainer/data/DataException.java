package io.fedtune.trainer.data;

import java.io.IOException;

/** Training or eval data that cannot be used: empty, or too many malformed records. */
public class DataException extends IOException {
    private final boolean empty;

    private DataException(String message, boolean empty) {
        super(message);
        this.empty = empty;
    }

    public static DataException empty(String message) {
        return new DataException(message, true);
    }

    public static DataException malformed(String message) {
        return new DataException(message, false);
    }

    /** True for no usable records; false for too many malformed ones. */
    public boolean isEmpty() {
        return empty;
    }
}
