package io.fedtune.trainer.storage;

import io.fedtune.api.contract.S3Uri;
import io.fedtune.trainer.model.CheckpointInvalidException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * Base checkpoints downloaded once per pod disk, under {@code <work>/models/<sha256 of the weights>};
 * a directory is complete only once its marker file exists, so an interrupted download is redone.
 */
public final class ModelCache {
    private static final String COMPLETE = ".complete";
    private final Path root;

    public ModelCache(Path workDir) {
        this.root = workDir.resolve("models");
    }

    /** Downloads the checkpoint under prefix unless a copy with the same weights digest is cached; checks the digest when one is expected. */
    public Path fetch(ObjectStore store, S3Uri prefix, String expectedSha256) throws IOException {
        S3Uri weights = prefix.child("model.safetensors");
        String sha = expectedSha256;
        if (sha == null) {
            try {
                sha = store.metadata(weights).get("sha256");
            } catch (StorageException e) {
                if (e.kind() != StorageException.Kind.NOT_FOUND) {
                    throw e;
                }
            }
        }
        if (sha != null && Files.exists(root.resolve(sha).resolve(COMPLETE))) {
            return root.resolve(sha);
        }
        List<String> keys = store.list(prefix);
        if (keys.isEmpty()) {
            throw new CheckpointInvalidException("no checkpoint under " + prefix);
        }
        Files.createDirectories(root);
        Path tmp = Files.createTempDirectory(root, "download-");
        for (String key : keys) {
            String name = key.substring(prefix.prefix().length());
            if (name.isEmpty() || name.contains("/")) {
                continue;
            }
            store.download(new S3Uri(prefix.bucket(), key), tmp.resolve(name));
        }
        Path local = tmp.resolve("model.safetensors");
        String actual = Files.exists(local) ? Sha256.of(local) : "sharded-" + Integer.toHexString(keys.hashCode());
        if (expectedSha256 != null && !expectedSha256.equals(actual)) {
            deleteTree(tmp);
            throw new CheckpointInvalidException("base model weights under " + prefix + " have SHA-256 " + actual
                    + ", expected " + expectedSha256);
        }
        Path target = root.resolve(actual);
        if (Files.exists(target.resolve(COMPLETE))) {
            deleteTree(tmp);
            return target;
        }
        if (Files.exists(target)) {
            deleteTree(target);
        }
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        Files.createFile(target.resolve(COMPLETE));
        return target;
    }

    static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
