package io.fedtune.trainer.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Where a command's inputs and outputs live: every location is a local path or an s3:// URI.
 * Run objects (base model, adapters, outputs) use the run's store; shard data uses the data store,
 * built from the shard's own credentials. Stores are created on first use, so local runs need no credentials.
 */
public final class StorageSession implements AutoCloseable {
    private final Supplier<ObjectStore> runStoreFactory;
    private final Supplier<ObjectStore> dataStoreFactory;
    private final Path workDir;
    private ObjectStore runStore;
    private ObjectStore dataStore;
    private Path scratch;

    public StorageSession(Supplier<ObjectStore> runStore, Supplier<ObjectStore> dataStore, Path workDir) {
        this.runStoreFactory = runStore;
        this.dataStoreFactory = dataStore;
        this.workDir = workDir;
    }

    private ObjectStore run() {
        if (runStore == null) {
            runStore = runStoreFactory.get();
        }
        return runStore;
    }

    private ObjectStore data() {
        if (dataStore == null) {
            dataStore = dataStoreFactory.get();
        }
        return dataStore;
    }

    private Path scratch() throws IOException {
        if (scratch == null) {
            Files.createDirectories(workDir);
            scratch = Files.createTempDirectory(workDir, "session-");
        }
        return scratch;
    }

    /** A run file (e.g. a global eval set), downloaded when remote. */
    public Path fetch(String location) throws IOException {
        return fetch(location, false);
    }

    /** A shard data file, read with the shard's credentials when remote. */
    public Path fetchData(String location) throws IOException {
        return fetch(location, true);
    }

    private Path fetch(String location, boolean shardData) throws IOException {
        if (!S3Uri.isS3(location)) {
            return Path.of(location);
        }
        S3Uri uri = S3Uri.parse(location);
        String name = uri.key().substring(uri.key().lastIndexOf('/') + 1);
        Path file = Files.createTempDirectory(scratch(), "in-").resolve(name.isEmpty() ? "object" : name);
        (shardData ? data() : run()).download(uri, file);
        return file;
    }

    /** A base checkpoint: local directory, or an s3:// prefix downloaded once into the model cache. */
    public Path checkpoint(String location, String expectedSha256) throws IOException {
        if (!S3Uri.isS3(location)) {
            return Path.of(location);
        }
        return new ModelCache(workDir).fetch(run(), S3Uri.parse(location), expectedSha256);
    }

    /** Every object directly under a prefix (an adapter), downloaded into a local directory. */
    public Path fetchDirectory(String location) throws IOException {
        if (!S3Uri.isS3(location)) {
            return Path.of(location);
        }
        S3Uri prefix = S3Uri.parse(location);
        Path dir = Files.createTempDirectory(scratch(), "dir-");
        List<String> keys = run().list(prefix);
        if (keys.isEmpty()) {
            throw new StorageException(StorageException.Kind.NOT_FOUND, "nothing under " + prefix, null);
        }
        for (String key : keys) {
            String name = key.substring(prefix.prefix().length());
            if (!name.isEmpty() && !name.contains("/")) {
                run().download(new S3Uri(prefix.bucket(), key), dir.resolve(name));
            }
        }
        return dir;
    }

    /** Where to write outputs locally before {@link #publish}: the path itself, or a scratch directory for s3. */
    public Path outputDirectory(String location) throws IOException {
        if (!S3Uri.isS3(location)) {
            Path dir = Path.of(location);
            Files.createDirectories(dir);
            return dir;
        }
        return Files.createTempDirectory(scratch(), "out-");
    }

    /** Uploads every file of dir under the prefix (no-op for local outputs), each with its SHA-256 in user metadata. */
    public Map<String, String> publish(Path dir, String location, List<String> names) throws IOException {
        Map<String, String> digests = new TreeMap<>();
        for (String name : names) {
            digests.put(name, Sha256.of(dir.resolve(name)));
        }
        if (S3Uri.isS3(location)) {
            S3Uri prefix = S3Uri.parse(location);
            for (String name : names) {
                run().upload(dir.resolve(name), prefix.child(name), Map.of("sha256", digests.get(name)));
            }
        }
        return digests;
    }

    /** All regular files directly in dir, sorted. */
    public static List<String> files(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    @Override
    public void close() throws IOException {
        if (scratch != null) {
            ModelCache.deleteTree(scratch);
        }
    }
}
