package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;

/**
 * Where a command's inputs and outputs live: every location is a local path ({@code file://} or none) or an
 * {@code s3://} URI, and both behave alike: a file that must exist and does not is a {@link StorageException} of kind
 * NOT_FOUND, wherever it was looked for. Run objects (base model, adapters, outputs, optimizer state, global eval sets)
 * use the run's store; shard data uses the data store, built from the shard's own credentials. Stores are created on
 * first use, so local runs need no credentials. Downloads go to a scratch directory removed on {@link #close}.
 */
public final class StorageSession implements AutoCloseable {
    private final Supplier<? extends RunStore> runStoreFactory;
    private final Supplier<ObjectStore> dataStoreFactory;
    private final Path workDir;
    private final Path cacheDir;
    private RunStore runStore;
    private ObjectStore dataStore;
    private Path scratch;

    /** @param cacheDir the cache that outlives pods (FEDTUNE_CACHE_DIR) for base models, or null for the work dir */
    public StorageSession(Supplier<? extends RunStore> runStore, Supplier<ObjectStore> dataStore, Path workDir, Path cacheDir) {
        this.runStoreFactory = runStore;
        this.dataStoreFactory = dataStore;
        this.workDir = workDir;
        this.cacheDir = cacheDir;
    }

    public StorageSession(Supplier<? extends RunStore> runStore, Supplier<ObjectStore> dataStore, Path workDir) {
        this(runStore, dataStore, workDir, null);
    }

    /** A session over the run's store alone (the aggregator: it reads no shard data). */
    public static StorageSession ofRunStore(RunStore store, Path workDir) {
        return new StorageSession(() -> {
            if (store == null) {
                throw new IllegalArgumentException("an s3:// location needs the task's storage endpoint and the "
                        + "FEDTUNE_STORAGE_* credentials");
            }
            return store;
        }, () -> {
            throw new IllegalStateException("this session reads no shard data");
        }, workDir);
    }

    private RunStore run() {
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

    private boolean isRunStore(ObjectStore store) {
        try {
            return store.endpoint().equals(run().endpoint());
        } catch (IllegalArgumentException noRunStore) {
            return false;
        }
    }

    /** A new directory in this session's scratch space. */
    public Path scratchDirectory(String purpose) throws IOException {
        if (scratch == null) {
            Files.createDirectories(workDir);
            scratch = Files.createTempDirectory(workDir, "session-");
        }
        return Files.createTempDirectory(scratch, purpose + "-");
    }

    /** The local path a non-s3 location names. */
    static Path localPath(String location) {
        return Path.of(location.startsWith("file://") ? location.substring("file://".length()) : location);
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
            Path file = localPath(location);
            if (!Files.isRegularFile(file)) {
                throw new StorageException(StorageException.Kind.NOT_FOUND, location + " does not exist", null);
            }
            return file;
        }
        S3Uri uri = S3Uri.parse(location);
        String name = uri.key().substring(uri.key().lastIndexOf('/') + 1);
        Path file = scratchDirectory("in").resolve(name.isEmpty() ? "object" : name);
        if (!shardData) {
            run().download(uri, file);
            return file;
        }
        ObjectStore data = data();
        try {
            data.download(uri, file);
        } catch (StorageException e) {
            if (e.kind() != StorageException.Kind.UNREACHABLE || isRunStore(data)) {
                throw e;
            }
            throw new StorageException(StorageException.Kind.DATA_UNREACHABLE, "the shard's data storage: " + e.getMessage(), e);
        }
        return file;
    }

    /**
     * A base checkpoint: a local directory used in place, or an s3:// prefix downloaded once into the model cache (the
     * one that outlives pods when there is one, else the work dir).
     */
    public CacheUse.Checkpoint checkpoint(String location, String expectedSha256) throws IOException {
        return checkpoint(location, expectedSha256, null);
    }

    /**
     * @param expectedFiles the checkpoint's files with the SHA-256 recorded for each ({@link ModelCache#fetch}), or null;
     *                      a local directory is checked against it in place
     */
    public CacheUse.Checkpoint checkpoint(String location, String expectedSha256, Map<String, String> expectedFiles)
            throws IOException {
        if (!S3Uri.isS3(location)) {
            Path dir = localPath(location);
            if (expectedFiles != null) {
                for (Map.Entry<String, String> e : expectedFiles.entrySet()) {
                    InputTamperedException.verify(dir, location, e.getKey(), e.getValue());
                }
            }
            return new CacheUse.Checkpoint(dir, CacheUse.OFF);
        }
        ModelCache cache = cacheDir != null ? new ModelCache(cacheDir, true, System.err) : new ModelCache(workDir, false, System.err);
        return cache.fetch(run(), S3Uri.parse(location), expectedSha256, expectedFiles);
    }

    /** Every key directly and deeply under an s3:// prefix of the run's storage. */
    public List<String> list(String location) throws IOException {
        return run().list(S3Uri.parse(location));
    }

    /** Every file directly under a prefix (an adapter) in a local directory; nothing there is NOT_FOUND. */
    public Path fetchDirectory(String location) throws IOException {
        if (!S3Uri.isS3(location)) {
            Path dir = localPath(location);
            if (!Files.isDirectory(dir) || files(dir).isEmpty()) {
                throw new StorageException(StorageException.Kind.NOT_FOUND, "nothing under " + location, null);
            }
            return dir;
        }
        S3Uri prefix = S3Uri.parse(location);
        List<String> keys = run().list(prefix);
        if (keys.isEmpty()) {
            throw new StorageException(StorageException.Kind.NOT_FOUND, "nothing under " + prefix, null);
        }
        Path dir = scratchDirectory("dir");
        for (String key : keys) {
            String name = key.substring(prefix.prefix().length());
            if (!name.isEmpty() && !name.contains("/")) {
                run().download(new S3Uri(prefix.bucket(), key), dir.resolve(name));
            }
        }
        return dir;
    }

    /**
     * The named files of a prefix (an update, an adapter, optimizer state) in a local directory: a local location is
     * used in place. A file absent there is absent here, for the caller to judge (a refused update, a fresh state).
     */
    public Path fetchDirectory(String location, List<String> names) throws IOException {
        if (!S3Uri.isS3(location)) {
            return localPath(location);
        }
        S3Uri prefix = S3Uri.parse(location);
        Path dir = scratchDirectory("dir");
        for (String name : names) {
            try {
                run().download(prefix.child(name), dir.resolve(name));
            } catch (StorageException e) {
                if (e.kind() != StorageException.Kind.NOT_FOUND) {
                    throw e;
                }
            }
        }
        return dir;
    }

    /** Where to write outputs locally before {@link #publish}: the path itself, or a scratch directory for s3. */
    public Path outputDirectory(String location) throws IOException {
        if (!S3Uri.isS3(location)) {
            Path dir = localPath(location);
            Files.createDirectories(dir);
            return dir;
        }
        return scratchDirectory("out");
    }

    /**
     * Uploads the named files of dir under the prefix (no-op for a local location), each with its SHA-256 in user
     * metadata; a named file absent from dir is skipped. Returns the SHA-256 of each file published.
     */
    public Map<String, String> publish(Path dir, String location, List<String> names) throws IOException {
        Map<String, String> digests = new TreeMap<>();
        for (String name : names) {
            if (Files.isRegularFile(dir.resolve(name))) {
                digests.put(name, Sha256.of(dir.resolve(name)));
            }
        }
        if (S3Uri.isS3(location)) {
            S3Uri prefix = S3Uri.parse(location);
            for (Map.Entry<String, String> e : digests.entrySet()) {
                run().upload(dir.resolve(e.getKey()), prefix.child(e.getKey()), Map.of("sha256", e.getValue()));
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
