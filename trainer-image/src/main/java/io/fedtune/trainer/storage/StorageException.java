package io.fedtune.trainer.storage;

import java.io.IOException;

/** Object storage failed: unreachable, refused the credentials, or the object is not there. */
public class StorageException extends IOException {
    /** UNREACHABLE is the run's storage, DATA_UNREACHABLE a shard's own data storage (another endpoint). */
    public enum Kind { UNREACHABLE, DATA_UNREACHABLE, ACCESS_DENIED, NOT_FOUND }

    private final Kind kind;

    public StorageException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
