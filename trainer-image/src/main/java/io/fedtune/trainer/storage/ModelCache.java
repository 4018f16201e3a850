package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.trainer.model.CheckpointInvalidException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Base checkpoints downloaded once, under {@code <root>/models/<sha256 of model.safetensors>/}: in the cache that
 * outlives pods ({@code FEDTUNE_CACHE_DIR}, shared by concurrent pods) or in the pod's scratch directory. An entry is
 * filled in a temporary folder and renamed into place whole, with a {@value #SUMS} listing every file's SHA-256; it is
 * verified on every use, and a corrupt one is discarded and fetched again, never trained on. Each entry has a lock, so
 * pods that want the same model download it once.
 */
public final class ModelCache {
    static final String SUMS = "SHA256SUMS";
    private static final String WEIGHTS = io.fedtune.api.contract.ObjectLayout.MODEL_WEIGHTS;
    private static final java.util.regex.Pattern KEY = java.util.regex.Pattern.compile("(sharded-)?[0-9a-f]{64}");
    private final Path root;
    private final boolean outlivesPods;
    private final PrintStream log;

    /** @param outlivesPods whether dir is FEDTUNE_CACHE_DIR (hits and misses are reported) or the scratch directory */
    public ModelCache(Path dir, boolean outlivesPods, PrintStream log) {
        this.root = dir.resolve("models");
        this.outlivesPods = outlivesPods;
        this.log = log;
    }

    /** The checkpoint under prefix, from the cache when a verified copy is there; checks the digest when one is expected. */
    public CacheUse.Checkpoint fetch(RunStore store, S3Uri prefix, String expectedSha256) throws IOException {
        return fetch(store, prefix, expectedSha256, null);
    }

    /**
     * @param expectedSha256 the SHA-256 model.safetensors must have (the run's pin: CheckpointInvalid otherwise), or null
     * @param expectedFiles  the checkpoint's files by name, each with the SHA-256 recorded for it (a different one is
     *                       InputTampered; null: any), or null for every file directly under the prefix (which then is
     *                       listed). Given, only these are fetched, and a cached entry is used only if it holds exactly them
     */
    public CacheUse.Checkpoint fetch(RunStore store, S3Uri prefix, String expectedSha256, Map<String, String> expectedFiles)
            throws IOException {
        Files.createDirectories(root);
        String expected = expectedSha256 != null ? expectedSha256 : expectedFiles == null ? null : expectedFiles.get(WEIGHTS);
        if (expected != null && !KEY.matcher(expected).matches()) {
            throw new IllegalArgumentException("the base model's SHA-256 '" + expected + "' is not 64 lower-case hex digits");
        }
        RunStore.ObjectInfo weights = expected != null ? null : store.info(prefix.child(WEIGHTS));
        String source = weights == null ? null : sourceOf(prefix.child(WEIGHTS) + "@" + weights.etag());
        String key = expected != null ? expected
                : weights == null ? null : key(weights.userMetadata().getOrDefault("sha256", knownKey(source)));
        Path download = null;
        if (key != null) {
            try (CacheLock lock = CacheLock.take(root.resolve(key + ".lock"))) {
                if (intact(root.resolve(key), key) && holds(root.resolve(key), expectedFiles)) {
                    return found(root.resolve(key), CacheUse.HIT);
                }
                download = download(store, prefix, expectedSha256, expectedFiles);
                if (key.equals(keyOf(download))) {
                    remember(source, key);
                    return found(install(download, key), CacheUse.MISS);
                }
            }
        }
        // no digest known beforehand, or the object's metadata named another: file it under the digest it has
        if (download == null) {
            download = download(store, prefix, expectedSha256, expectedFiles);
        }
        String actual = keyOf(download);
        try (CacheLock lock = CacheLock.take(root.resolve(actual + ".lock"))) {
            Path entry = install(download, actual);
            remember(source, actual);
            return found(entry, CacheUse.MISS);
        }
    }

    /** The SHA-256 of each file of a verified entry, by name, as its {@value #SUMS} lists them. */
    public static Map<String, String> listing(Path entry) throws IOException {
        Map<String, String> files = new TreeMap<>();
        for (String line : Files.readAllLines(entry.resolve(SUMS), StandardCharsets.UTF_8)) {
            String[] parts = line.split(" {2}", 2);
            if (parts.length == 2) {
                files.put(parts[1], parts[0]);
            }
        }
        return files;
    }

    /** The entry holds exactly the expected files, each with its recorded SHA-256 where one is recorded. */
    private static boolean holds(Path entry, Map<String, String> expectedFiles) throws IOException {
        if (expectedFiles == null) {
            return true;
        }
        Map<String, String> listed = listing(entry);
        return listed.keySet().equals(expectedFiles.keySet()) && expectedFiles.entrySet().stream()
                .allMatch(e -> e.getValue() == null || e.getValue().equalsIgnoreCase(listed.get(e.getKey())));
    }

    /**
     * Without a digest from the task or the object's metadata, the weights object's ETag says which entry it was filed
     * under last time: {@code sources/<sha256 of uri@etag>} holds the key (the entry is still verified on use).
     */
    private String knownKey(String source) throws IOException {
        Path file = source == null ? null : root.resolve("sources").resolve(source);
        return file != null && Files.isRegularFile(file) ? Files.readString(file).trim() : null;
    }

    /** A key that names a folder of the cache, or null: names from metadata and files must not lead elsewhere. */
    private static String key(String candidate) {
        return candidate != null && KEY.matcher(candidate).matches() ? candidate : null;
    }

    private static String sourceOf(String uriAtEtag) {
        java.security.MessageDigest md = Sha256.digest();
        md.update(uriAtEtag.getBytes(StandardCharsets.UTF_8));
        return Sha256.hex(md);
    }

    private void remember(String source, String key) throws IOException {
        if (source != null) {
            Path dir = Files.createDirectories(root.resolve("sources"));
            Path tmp = Files.createTempFile(dir, ".source-", "");
            Files.writeString(tmp, key);
            Files.move(tmp, dir.resolve(source), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private CacheUse.Checkpoint found(Path dir, CacheUse use) {
        return new CacheUse.Checkpoint(dir, outlivesPods ? use : CacheUse.OFF);
    }

    /**
     * The expected files, or every file directly under prefix, into a new temporary folder of the cache with its
     * {@value #SUMS}; each checked against its recorded SHA-256 and the weights against the pin.
     */
    private Path download(RunStore store, S3Uri prefix, String expectedSha256, Map<String, String> expectedFiles)
            throws IOException {
        List<String> names = expectedFiles != null ? List.copyOf(expectedFiles.keySet()) : store.list(prefix).stream()
                .map(k -> k.substring(prefix.prefix().length())).filter(n -> !n.isEmpty() && !n.contains("/")).toList();
        names = names.stream().filter(n -> !n.equals(SUMS)).toList();
        if (names.isEmpty()) {
            throw new CheckpointInvalidException("no checkpoint under " + prefix);
        }
        Path tmp = Files.createTempDirectory(root, ".download-");
        try {
            Map<String, String> sums = new TreeMap<>();
            for (String name : names) {
                store.download(prefix.child(name), tmp.resolve(name));
                sums.put(name, Sha256.of(tmp.resolve(name)));
                String recorded = expectedFiles == null ? null : expectedFiles.get(name);
                if (recorded != null && !recorded.equalsIgnoreCase(sums.get(name))) {
                    throw InputTamperedException.of(prefix.child(name).toString(), sums.get(name), recorded);
                }
            }
            StringBuilder listing = new StringBuilder();
            sums.forEach((name, sha) -> listing.append(sha).append("  ").append(name).append('\n'));
            Files.writeString(tmp.resolve(SUMS), listing, StandardCharsets.UTF_8);
            String actual = keyOf(tmp);
            if (expectedSha256 != null && !expectedSha256.equals(actual)) {
                throw new CheckpointInvalidException("base model weights under " + prefix + " have SHA-256 " + actual
                        + ", expected " + expectedSha256);
            }
            return tmp;
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** Renames a downloaded folder into place (the caller holds the entry's lock), discarding a corrupt entry there. */
    private Path install(Path download, String key) throws IOException {
        Path entry = root.resolve(key);
        if (intact(entry, key) && listing(entry).equals(listing(download))) {
            deleteTree(download);
            return entry;
        }
        discard(entry);
        Files.move(download, entry, StandardCopyOption.ATOMIC_MOVE);
        return entry;
    }

    private void discard(Path entry) throws IOException {
        if (Files.exists(entry)) {
            log.println("discarding the corrupt cached base model " + entry);
            Path aside = Files.createTempDirectory(root, ".discard-");
            Files.move(entry, aside.resolve("entry"), StandardCopyOption.ATOMIC_MOVE);
            deleteTree(aside);
        }
    }

    /** The entry exists, has its listing, every listed file has its listed SHA-256, and the listing gives this key. */
    private static boolean intact(Path entry, String key) throws IOException {
        Path sums = entry.resolve(SUMS);
        if (!Files.isRegularFile(sums)) {
            return false;
        }
        for (String line : Files.readAllLines(sums, StandardCharsets.UTF_8)) {
            String[] parts = line.split(" {2}", 2);
            Path file = entry.resolve(parts.length == 2 ? parts[1] : "");
            if (parts.length != 2 || !Files.isRegularFile(file) || !parts[0].equals(Sha256.of(file))) {
                return false;
            }
        }
        return key.equals(keyOf(entry));
    }

    /** The SHA-256 of model.safetensors as listed; a sharded checkpoint is keyed by the SHA-256 of its listing. */
    private static String keyOf(Path dir) throws IOException {
        for (String line : Files.readAllLines(dir.resolve(SUMS), StandardCharsets.UTF_8)) {
            if (line.endsWith("  " + WEIGHTS)) {
                return line.substring(0, line.indexOf(' '));
            }
        }
        return "sharded-" + Sha256.of(dir.resolve(SUMS));
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
