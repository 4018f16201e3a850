package io.fedtune.trainer.aggregate;

import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.v1alpha1.EvalDataset;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.model.DeviceRequest;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.storage.InputTamperedException;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.storage.StorageSession;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;

/**
 * One aggregation task end to end: fetch the round's updates, the previous global adapter and the optimizer state;
 * aggregate; write the global adapter and its manifest; publish them; return the termination message's content.
 */
public final class AggregationJob {
    static final List<String> ADAPTER_FILES = List.of(AdapterConfig.FILE, Adapter.WEIGHTS_FILE, GlobalManifest.FILE);

    private final AggregateTask task;
    private final StorageSession storage;
    private final DeviceRequest device;

    /** @param device what the pod asked for; the global evaluation runs there */
    public AggregationJob(AggregateTask task, StorageSession storage, DeviceRequest device) {
        this.task = task;
        this.storage = storage;
        this.device = device;
    }

    public AggregationJob(AggregateTask task, StorageSession storage) {
        this(task, storage, DeviceRequest.AUTO);
    }

    public AggregateResult run() throws RoundFailed, IOException {
        long start = System.nanoTime();
        if (task.updates() == null || task.lora() == null || task.aggregation() == null || task.output() == null) {
            throw new RoundFailed(FailureReason.InvalidTask, "the task needs updates, lora, aggregation and output");
        }
        boolean evaluates = task.evalSets() != null && !task.evalSets().isEmpty() && task.baseModel() != null;
        // chosen first, so a pod without the GPU it asked for fails before it downloads anything
        Placement placement = evaluates || device == DeviceRequest.GPU ? Placement.of("Auto", device) : null;
        // the base model is verified before anything is aggregated: a tampered file stops the round with nothing written
        Path checkpoint = evaluates ? storage.checkpoint(task.baseModel(), task.baseModelSha256(), task.baseModelFiles()).dir()
                : null;
        List<OfferedUpdate> offered = new ArrayList<>();
        for (ShardUpdate u : task.updates()) {
            Path dir = storage.fetchDirectory(u.adapter(), ADAPTER_FILES);
            offered.add(new OfferedUpdate(u.shard(), dir, u.sha256(), u.samples(), u.weight(), u.rank()));
        }
        Path previousDir = null;
        GlobalAdapter previous = null;
        if (task.previousGlobal() != null) {
            previousDir = storage.fetchDirectory(task.previousGlobal(), ADAPTER_FILES);
            checkPreviousGlobal(previousDir, task.previousGlobal(), task.previousGlobalSha256());
            previous = GlobalAdapter.read(previousDir);
        }
        AdapterLayout layout = layout(previousDir, offered);
        String stateLocation = task.optimizerState();
        Path stateDir = stateLocation == null ? storage.scratchDirectory("optimizer-state")
                : storage.fetchDirectory(stateLocation, List.of(OptimizerState.fileName(task.round() - 1),
                        PrivacyLedger.fileName(task.round() - 1)));
        if (stateLocation != null && task.optimizerStateSha256() != null) {
            checkRecorded(stateDir, stateLocation, task.optimizerStateSha256());
        }
        Path out = storage.outputDirectory(task.output());

        // privacy noise must be unpredictable: a seed from the run spec would let anyone who reads it subtract the noise
        SplittableRandom noise = new SplittableRandom(new SecureRandom().nextLong());
        RoundReport report = new RoundAggregation(new AggregationInputs(task.round(), offered, layout, previous, task.lora(),
                task.aggregation(), task.participationRate(), task.seed(), stateDir, noise, out)).run();

        RoundEvaluation evaluation = evaluates ? evaluate(checkpoint, out, placement) : null;
        Map<String, String> files = new TreeMap<>();
        files.put(AdapterConfig.FILE, Sha256.of(out.resolve(AdapterConfig.FILE)));
        files.put(Adapter.WEIGHTS_FILE, report.sha256());
        double seconds = (System.nanoTime() - start) / 1e9;
        GlobalManifest manifest = new GlobalManifest(task.run(), task.round(), task.attempt(), report, evaluation, files,
                seconds);
        Files.writeString(out.resolve(GlobalManifest.FILE), ContractJson.mapper().writerWithDefaultPrettyPrinter()
                .writeValueAsString(manifest) + "\n", StandardCharsets.UTF_8);
        Map<String, String> published = storage.publish(out, task.output(), ADAPTER_FILES);
        Map<String, String> stateSha256 = stateLocation == null ? null : storage.publish(stateDir, stateLocation,
                List.of(OptimizerState.fileName(task.round()), PrivacyLedger.fileName(task.round())));
        return new AggregateResult(Outcome.Succeeded, null, summary(report), task.round(), task.output(), report.sha256(),
                report.accepted().stream().map(RoundReport.AcceptedShard::shard).toList(), report.refused(),
                evaluation == null ? null : evaluation.evalLoss(), lossesBySet(evaluation),
                evaluation == null ? null : evaluation.regressed(), report.truncationEnergy(), report.epsilon(),
                (System.nanoTime() - start) / 1e9, evaluation == null ? null : placement.deviceName(),
                evaluation == null ? null : placement.precisionName(),
                stateSha256 == null || stateSha256.isEmpty() ? null : stateSha256, published.get(AdapterConfig.FILE),
                evaluation == null ? null : evaluation.evalMetric(), evaluation == null ? null : evaluation.evalScore(),
                scoresBySet(evaluation));
    }

    /** Each state file the operator recorded must be there and unchanged: a missing one would silently restart it. */
    private static void checkRecorded(Path dir, String location, Map<String, String> recorded) throws IOException {
        for (Map.Entry<String, String> e : recorded.entrySet()) {
            if (!Files.isRegularFile(dir.resolve(e.getKey()))) {
                throw new io.fedtune.trainer.storage.StorageException(io.fedtune.trainer.storage.StorageException.Kind.NOT_FOUND,
                        "the server state " + e.getKey() + " recorded under " + location + " does not exist", null);
            }
            InputTamperedException.verify(dir, location, e.getKey(), e.getValue());
        }
    }

    /** Base model + the new global adapter on the run's eval sets. */
    private RoundEvaluation evaluate(Path checkpoint, Path adapterDir, Placement placement) throws IOException {
        List<GlobalEvaluation.EvalSet> sets = new ArrayList<>();
        for (EvalDataset d : task.evalSets()) {
            sets.add(new GlobalEvaluation.EvalSet(d.name, storage.fetch(d.uri), d.format == null ? null : d.format.name(),
                    d.task, d.metric, d.maxNewTokens));
        }
        return GlobalEvaluation.run(checkpoint, placement, adapterDir, sets, task.maxSequenceLength(), task.bestEvalScore());
    }

    private static Map<String, Double> lossesBySet(RoundEvaluation evaluation) {
        if (evaluation == null) {
            return null;
        }
        Map<String, Double> losses = new TreeMap<>();
        evaluation.sets().forEach((name, r) -> {
            if (r.loss() != null) {
                losses.put(name, r.loss());
            }
        });
        return losses;
    }

    /** Every metric of each set, by set (in the task's order: the primary first) then metric name. */
    private static Map<String, Map<String, Double>> scoresBySet(RoundEvaluation evaluation) {
        if (evaluation == null) {
            return null;
        }
        Map<String, Map<String, Double>> scores = new java.util.LinkedHashMap<>();
        evaluation.sets().forEach((name, r) -> {
            Map<String, Double> metrics = new TreeMap<>();
            r.metrics().forEach((m, v) -> metrics.put(m.name(), v));
            scores.put(name, metrics);
        });
        return scores;
    }

    private static String summary(RoundReport r) {
        return r.strategy() + ": " + r.accepted().size() + " updates accepted, " + r.refused().size() + " refused";
    }

    /**
     * The previous global adapter is this run's own output: its weights must have the SHA-256 the operator recorded
     * from the aggregation that wrote them (InputTampered otherwise). A task without that record (a command-line run)
     * falls back to the adapter's own manifest.json, which lives in the same storage and so only catches corruption.
     */
    private static void checkPreviousGlobal(Path dir, String location, String recordedSha256) throws IOException, RoundFailed {
        Path manifest = dir.resolve(GlobalManifest.FILE);
        Path weights = dir.resolve(Adapter.WEIGHTS_FILE);
        if (!Files.isRegularFile(weights)) {
            throw new RoundFailed(FailureReason.InvalidTask, "the previous global adapter has no " + Adapter.WEIGHTS_FILE);
        }
        if (recordedSha256 != null) {
            InputTamperedException.verify(dir, location, Adapter.WEIGHTS_FILE, recordedSha256);
        } else if (Files.isRegularFile(manifest)) {
            String text;
            try {
                text = io.fedtune.trainer.storage.SmallFile.readString(manifest, 4 * io.fedtune.trainer.storage.SmallFile.MiB);
            } catch (io.fedtune.trainer.storage.SmallFile.TooLarge e) {
                throw new RoundFailed(FailureReason.AdapterMismatch, "the previous global adapter's " + e.getMessage());
            }
            String listed = ContractJson.mapper().readTree(text).path("files")
                    .path(Adapter.WEIGHTS_FILE).asText(null);
            if (listed != null && !listed.equalsIgnoreCase(Sha256.of(weights))) {
                throw new RoundFailed(FailureReason.InvalidTask, "the previous global adapter's SHA-256 differs from its manifest");
            }
        }
    }

    /** The base model's config where it can be read; else the previous global adapter; else what most updates carry. */
    private AdapterLayout layout(Path previousDir, List<OfferedUpdate> offered) throws IOException, RoundFailed {
        List<LoraTarget> targets = new ArrayList<>();
        for (TargetModule t : task.lora().targetModules) {
            targets.add(LoraTarget.fromModuleName(t.moduleName()));
        }
        if (task.baseModel() != null) {
            Path dir = storage.fetchDirectory(task.baseModel(), List.of(ModelConfig.FILE));
            if (task.baseModelFiles() != null) {
                InputTamperedException.verify(dir, task.baseModel(), ModelConfig.FILE, task.baseModelFiles().get(ModelConfig.FILE));
            }
            if (Files.isRegularFile(dir.resolve(ModelConfig.FILE))) {
                ModelConfig config = ModelConfig.read(dir);
                config.checkTargets(targets);
                return AdapterLayout.of(config, targets);
            }
        }
        if (previousDir != null) {
            try (SafetensorsReader r = SafetensorsReader.open(previousDir.resolve(Adapter.WEIGHTS_FILE))) {
                return AdapterLayout.of(r);
            }
        }
        // the first readable updates vote until one layout has two votes: one odd update cannot set the layout
        Map<AdapterLayout, Integer> votes = new HashMap<>();
        for (OfferedUpdate o : offered) {
            try (SafetensorsReader r = SafetensorsReader.open(o.dir().resolve(Adapter.WEIGHTS_FILE))) {
                if (votes.merge(AdapterLayout.of(r), 1, Integer::sum) >= 2) {
                    break;
                }
            } catch (IOException | IllegalArgumentException e) {
                // an unreadable update gets no vote; its verification will refuse it
            }
        }
        return votes.entrySet().stream().max(Map.Entry.comparingByValue()).map(Map.Entry::getKey)
                .orElseThrow(() -> new RoundFailed(FailureReason.NoValidUpdates, "no readable update to take the adapter layout from"));
    }
}
