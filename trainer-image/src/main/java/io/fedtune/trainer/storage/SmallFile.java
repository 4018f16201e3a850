package io.fedtune.trainer.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A file the trainer reads whole (a task, a manifest, a config), refused when it is over its cap. */
public final class SmallFile {
    public static final long KiB = 1024;
    public static final long MiB = 1024 * KiB;

    private SmallFile() {
    }

    /** Thrown when a file is larger than the caller's cap; the message names the file, its size and the cap. */
    public static final class TooLarge extends IOException {
        public TooLarge(Path file, long size, long cap) {
            super(file + " is " + (size > cap ? size + " bytes" : "more than " + cap + " bytes")
                    + ", over the cap of " + cap + " bytes (" + cap / MiB + " MiB)");
        }
    }

    /** The file as UTF-8 text, at most {@code cap} bytes; a file that grows past the cap while read is refused too. */
    public static String readString(Path file, long cap) throws IOException {
        long size = Files.size(file);
        if (size > cap) {
            throw new TooLarge(file, size, cap);
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, cap + 1));
            if (bytes.length > cap) {
                throw new TooLarge(file, bytes.length, cap);
            }
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }
}
