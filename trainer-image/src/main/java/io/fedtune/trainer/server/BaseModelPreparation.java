package io.fedtune.trainer.server;

import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.CheckpointInvalidException;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.storage.CacheUse;
import io.fedtune.trainer.storage.ModelCache;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A run's preparation (role prepare): the SHA-256 and size of every file directly under the base model's prefix, which
 * the operator records and every later pod that reads the base model is checked against. Read through the model cache,
 * so a model that is cached already is hashed from there, once.
 */
public final class BaseModelPreparation {
    private final PrepareTask task;
    private final StorageSession storage;

    public BaseModelPreparation(PrepareTask task, StorageSession storage) {
        this.task = task;
        this.storage = storage;
    }

    public PrepareResult run() throws IOException {
        long start = System.nanoTime();
        if (task.baseModel() == null) {
            throw new IllegalArgumentException("the task needs baseModel");
        }
        Map<String, String> names = new TreeMap<>();
        for (String name : names()) {
            names.put(name, null);
        }
        if (!names.containsKey(ModelConfig.FILE)) {
            throw new CheckpointInvalidException("no " + ModelConfig.FILE + " under " + task.baseModel());
        }
        if (!names.containsKey(Checkpoint.WEIGHTS) && !names.containsKey(Checkpoint.INDEX)) {
            throw new CheckpointInvalidException("no weights under " + task.baseModel() + " (neither " + Checkpoint.WEIGHTS
                    + " nor " + Checkpoint.INDEX + ")");
        }
        CacheUse.Checkpoint checkpoint = storage.checkpoint(task.baseModel(), task.baseModelSha256(), names);
        Map<String, String> sums = S3Uri.isS3(task.baseModel()) ? ModelCache.listing(checkpoint.dir()) : hashes(checkpoint.dir(), names);
        String weights = sums.get(Checkpoint.WEIGHTS);
        if (task.baseModelSha256() != null && !task.baseModelSha256().equalsIgnoreCase(weights)) {
            throw new CheckpointInvalidException("base model weights under " + task.baseModel() + " have SHA-256 " + weights
                    + ", expected " + task.baseModelSha256());
        }
        List<ModelFile> files = new ArrayList<>();
        for (Map.Entry<String, String> e : sums.entrySet()) {
            files.add(new ModelFile(e.getKey(), e.getValue(), Files.size(checkpoint.dir().resolve(e.getKey()))));
        }
        return new PrepareResult(Outcome.Succeeded, null, files.size() + " files of " + task.baseModel() + " recorded",
                files, (System.nanoTime() - start) / 1e9, checkpoint.cache().wireName());
    }

    /** The names of the files directly under the base model's prefix or directory. */
    private List<String> names() throws IOException {
        if (!S3Uri.isS3(task.baseModel())) {
            Path dir = Path.of(task.baseModel().replaceFirst("^file://", ""));
            if (!Files.isDirectory(dir)) {
                throw new CheckpointInvalidException("no checkpoint at " + task.baseModel());
            }
            return StorageSession.files(dir);
        }
        S3Uri prefix = S3Uri.parse(task.baseModel());
        return storage.list(task.baseModel()).stream().map(k -> k.substring(prefix.prefix().length()))
                .filter(n -> !n.isEmpty() && !n.contains("/")).toList();
    }

    private static Map<String, String> hashes(Path dir, Map<String, String> names) throws IOException {
        Map<String, String> sums = new TreeMap<>();
        for (String name : names.keySet()) {
            sums.put(name, Sha256.of(dir.resolve(name)));
        }
        return sums;
    }
}
