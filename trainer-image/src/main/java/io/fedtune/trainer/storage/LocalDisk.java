package io.fedtune.trainer.storage;

import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NotDirectoryException;
import java.nio.file.ReadOnlyFileSystemException;

/** What a local filesystem error says about the scratch or cache volume, found anywhere in a cause chain. */
public final class LocalDisk {
    private static final String ENOSPC = "No space left on device";

    private LocalDisk() {
    }

    /** The first cause saying the disk is full (ENOSPC), or null. */
    public static Throwable full(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.IOException && t.getMessage() != null && t.getMessage().contains(ENOSPC)) {
                return t;
            }
        }
        return null;
    }

    /** The first cause saying a local path cannot be written (read-only, denied, under a file, missing), or null. */
    public static FileSystemException unwritable(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof AccessDeniedException || t instanceof NotDirectoryException) {
                return (FileSystemException) t;
            }
            if (t instanceof FileSystemException f && f.getReason() != null
                    && (f.getReason().contains("Read-only file system") || f.getReason().contains("Not a directory"))) {
                return f;
            }
            if (t instanceof ReadOnlyFileSystemException) {
                return new FileSystemException(null, null, "Read-only file system");
            }
        }
        return null;
    }

    /** The path a filesystem error names, or null. */
    public static String path(Throwable t) {
        return t instanceof FileSystemException f ? f.getFile() : null;
    }
}
