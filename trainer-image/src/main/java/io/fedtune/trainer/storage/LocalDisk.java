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

    /**
     * The cause saying the disk is full (ENOSPC), or null: the first one that names its path, else the deepest (a wrapper
     * that repeats its cause's message is not the cause).
     */
    public static Throwable full(Throwable e) {
        Throwable deepest = null;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof java.io.IOException && t.getMessage() != null && t.getMessage().contains(ENOSPC)) {
                if (path(t) != null) {
                    return t;
                }
                deepest = t;
            }
        }
        return deepest;
    }

    /**
     * A full disk while writing {@code file}, as an error that names it (a stream's write says only "No space left on
     * device"); any other error as it is.
     */
    public static java.io.IOException naming(java.nio.file.Path file, java.io.IOException e) {
        Throwable full = full(e);
        if (full == null || path(full) != null) {
            return e;
        }
        FileSystemException named = new FileSystemException(file.toString(), null, ENOSPC);
        named.initCause(e);
        return named;
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
