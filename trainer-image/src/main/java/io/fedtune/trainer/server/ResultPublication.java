package io.fedtune.trainer.server;

import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.storage.InputTamperedException;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.storage.StorageException;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Publishing a run's result (role publish): the best global adapter's recorded files copied to {@code final/}, each
 * verified before anything is written, the model card (README.md, when the task has one) and a manifest.json with the
 * SHA-256 of every file next to them, and the weights read back and checked.
 */
public final class ResultPublication {
    private static final Set<String> ADAPTER_FILES = Set.of(Adapter.WEIGHTS_FILE, AdapterConfig.FILE);

    private final PublishTask task;
    private final StorageSession storage;

    public ResultPublication(PublishTask task, StorageSession storage) {
        this.task = task;
        this.storage = storage;
    }

    public PublishResult run() throws IOException {
        long start = System.nanoTime();
        Map<String, String> recorded = recorded();
        List<String> names = new ArrayList<>(recorded.keySet());
        Path source = storage.fetchDirectory(task.source(), names);
        for (String name : names) {
            if (!Files.isRegularFile(source.resolve(name))) {
                throw new StorageException(StorageException.Kind.NOT_FOUND, "the best adapter's " + name + " recorded under "
                        + task.source() + " does not exist", null);
            }
            InputTamperedException.verify(source, task.source(), name, recorded.get(name));
        }
        Path out = storage.outputDirectory(task.destination());
        for (String name : names) {
            if (!Files.isSameFile(source, out)) {
                Files.copy(source.resolve(name), out.resolve(name), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Map<String, String> files = new TreeMap<>(recorded);
        // a task without a card (an older operator) publishes what it published before: no README.md
        if (task.card() != null) {
            Files.writeString(out.resolve(ModelCardReadme.FILE), ModelCardReadme.render(task.card(), task.round(), task.destination()),
                    StandardCharsets.UTF_8);
            files.put(ModelCardReadme.FILE, Sha256.of(out.resolve(ModelCardReadme.FILE)));
            names.add(ModelCardReadme.FILE);
        }
        new FinalManifest(task.run(), task.namespace(), task.round(), task.source(), task.baseModel(), task.evalLoss(),
                files, Instant.now().toString()).write(out);
        names.add(FinalManifest.FILE);
        Map<String, String> published = storage.publish(out, task.destination(), names);
        String back = Sha256.of(storage.fetchDirectory(task.destination(), List.of(Adapter.WEIGHTS_FILE))
                .resolve(Adapter.WEIGHTS_FILE));
        if (!back.equalsIgnoreCase(recorded.get(Adapter.WEIGHTS_FILE))) {
            throw new IOException("the published " + Adapter.WEIGHTS_FILE + " under " + task.destination()
                    + " reads back with SHA-256 " + back + ", but " + recorded.get(Adapter.WEIGHTS_FILE) + " was written");
        }
        return new PublishResult(Outcome.Succeeded, null, "round " + task.round() + "'s adapter published to "
                + task.destination(), task.destination(), back, published, (System.nanoTime() - start) / 1e9);
    }

    /** The files to publish and their recorded SHA-256: the weights at least, adapter files only. */
    private Map<String, String> recorded() {
        if (task.source() == null || task.destination() == null || task.sourceSha256() == null) {
            throw new IllegalArgumentException("the task needs source, destination and sourceSha256");
        }
        Map<String, String> recorded = new TreeMap<>(task.sourceSha256());
        if (recorded.get(Adapter.WEIGHTS_FILE) == null) {
            throw new IllegalArgumentException("sourceSha256 records no SHA-256 for " + Adapter.WEIGHTS_FILE);
        }
        for (String name : recorded.keySet()) {
            if (!ADAPTER_FILES.contains(name) || recorded.get(name) == null) {
                throw new IllegalArgumentException("sourceSha256 names " + name + (recorded.get(name) == null ? " without a SHA-256"
                        : "; only " + Adapter.WEIGHTS_FILE + " and " + AdapterConfig.FILE + " are published"));
            }
        }
        return recorded;
    }
}
