package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import java.io.IOException;
import java.nio.file.Path;

/**
 * An input whose SHA-256 differs from the one the operator recorded for it (ARCHITECTURE.md, "Trust boundaries"): it is
 * refused by name before use, never trained on or averaged in. The reason is {@code InputTampered}.
 */
public final class InputTamperedException extends IOException {
    private InputTamperedException(String message) {
        super(message);
    }

    /**
     * Checks the file {@code name} of a fetched directory against its recorded SHA-256; a null expectation checks
     * nothing. A file absent there is left to the caller (it has its own reason for that).
     *
     * @param dir      the local copy of {@code location}
     * @param location the s3:// prefix or path it was read from; the message names {@code location/name}
     * @param expected the SHA-256 the operator recorded, hex
     */
    public static void verify(Path dir, String location, String name, String expected) throws IOException {
        Path file = dir.resolve(name);
        if (expected == null || !java.nio.file.Files.isRegularFile(file)) {
            return;
        }
        String key = S3Uri.isS3(location) ? S3Uri.parse(location).child(name).toString()
                : StorageSession.localPath(location).resolve(name).toString();
        String actual = Sha256.of(file);
        if (!actual.equalsIgnoreCase(expected)) {
            throw of(key, actual, expected);
        }
    }

    /** The refusal of {@code key} (an s3:// key or a path, never a URL), naming both hashes. */
    public static InputTamperedException of(String key, String actual, String expected) {
        return new InputTamperedException(key + " has SHA-256 " + actual + ", but the operator recorded " + expected);
    }
}
