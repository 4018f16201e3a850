package io.fedtune.trainer.storage;

import java.io.IOException;

/** Object storage failed: unreachable, refused the credentials, or the object is not there. */
public class StorageException extends IOException {
    public enum Kind { UNREACHABLE, ACCESS_DENIED, NOT_FOUND }

    private final Kind kind;

    public StorageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
