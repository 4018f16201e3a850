package io.fedtune.trainer.storage;

import java.nio.file.Path;
import java.util.Locale;

/** Whether the base model came from the cache that outlives pods ({@code FEDTUNE_CACHE_DIR}). */
public enum CacheUse {
    /** A verified copy was there. */
    HIT,
    /** It was downloaded into the cache (absent, or a corrupt copy was discarded). */
    MISS,
    /** No such cache: the model went to the pod's scratch directory, or it is a local directory used in place. */
    OFF;

    /** {@code hit}, {@code miss} or {@code off}, as the manifest and the termination message say it. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** A base checkpoint on local disk, and where it came from. */
    public record Checkpoint(Path dir, CacheUse cache) {
    }
}
