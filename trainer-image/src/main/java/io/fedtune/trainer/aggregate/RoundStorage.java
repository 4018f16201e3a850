package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.storage.ObjectStore;
import io.fedtune.trainer.storage.S3Uri;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.storage.StorageException;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Where a round's files live: an {@code s3://} prefix (fetched into the work directory, published back) or a local
 * directory (used in place), so the same aggregation runs in a pod and on a laptop.
 */
public final class RoundStorage {
    private final ObjectStore store;
    private final Path workDir;

    /** @param store null when every location is local */
    public RoundStorage(ObjectStore store, Path workDir) {
        this.store = store;
        this.workDir = workDir;
    }

    /**
     * A local directory holding {@code files} of {@code location}; files absent there are simply absent here.
     *
     * @param scratchName the work-directory subfolder used for an s3:// location
     */
    public Path fetch(String location, String scratchName, List<String> files) throws IOException {
        if (!S3Uri.isS3(location)) {
            return Path.of(location.startsWith("file://") ? location.substring(7) : location);
        }
        S3Uri prefix = S3Uri.parse(location);
        Path dir = workDir.resolve(scratchName);
        Files.createDirectories(dir);
        for (String f : files) {
            try {
                store().download(prefix.child(f), dir.resolve(f));
            } catch (StorageException e) {
                if (e.kind() != StorageException.Kind.NOT_FOUND) {
                    throw e;
                }
            }
        }
        return dir;
    }

    /** Where to write files bound for {@code location}: the directory itself when local. */
    public Path outputDir(String location, String scratchName) throws IOException {
        Path dir = S3Uri.isS3(location) ? workDir.resolve(scratchName) : fetch(location, scratchName, List.of());
        Files.createDirectories(dir);
        return dir;
    }

    /** Uploads the named files of {@code dir} to an s3:// location, each with its SHA-256 in user metadata. */
    public void publish(Path dir, String location, List<String> files) throws IOException {
        if (!S3Uri.isS3(location)) {
            return;
        }
        S3Uri prefix = S3Uri.parse(location);
        for (String f : files) {
            Path file = dir.resolve(f);
            if (Files.isRegularFile(file)) {
                store().upload(file, prefix.child(f), Map.of("sha256", Sha256.of(file)));
            }
        }
    }

    /** Names of the regular files directly in dir. */
    public static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    /** The trainer's storage session over the same store, for checkpoints and eval data. */
    public StorageSession session() {
        return new StorageSession(() -> {
            if (store == null) {
                throw new IllegalStateException("an s3:// location needs the task's storage endpoint and the "
                        + "FEDTUNE_STORAGE_* credentials");
            }
            return store;
        }, () -> {
            throw new IllegalStateException("the aggregator reads no shard data");
        }, workDir);
    }

    private ObjectStore store() throws StorageException {
        if (store == null) {
            throw new StorageException(StorageException.Kind.UNREACHABLE, "an s3:// location needs the task's storage "
                    + "endpoint and the FEDTUNE_STORAGE_* credentials", null);
        }
        return store;
    }
}
