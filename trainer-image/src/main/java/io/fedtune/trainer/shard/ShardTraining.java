package io.fedtune.trainer.shard;

import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.ChatTemplate;
import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.DataException;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.Demonstrations;
import io.fedtune.trainer.data.Segment;
import io.fedtune.trainer.eval.TaskData;
import io.fedtune.trainer.eval.TaskScore;
import io.fedtune.trainer.eval.TaskScorer;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.CheckpointInvalidException;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.storage.CacheUse;
import io.fedtune.trainer.storage.InputTamperedException;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.storage.StorageException;
import io.fedtune.trainer.storage.StorageSession;
import io.fedtune.trainer.train.LocalTraining;
import io.fedtune.trainer.train.LoraParameters;
import io.fedtune.trainer.train.TrainingOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One shard's part of a round: fetch its inputs, evaluate the starting adapter, train, evaluate, write and publish the
 * adapter and its manifest.
 */
public final class ShardTraining {
    private static final List<String> OUTPUT_FILES = List.of(AdapterConfig.FILE, Adapter.WEIGHTS_FILE, ShardManifest.FILE);
    private final PrintStream log;

    public ShardTraining(PrintStream log) {
        this.log = log;
    }

    /** @param placement chosen before anything is fetched: a pod without its GPU fails before it downloads */
    public ShardManifest run(TrainingPlan plan, Placement placement, StorageSession storage) throws IOException {
        long start = System.nanoTime();
        EvalMetric metric = plan.rankingMetric();
        CacheUse.Checkpoint checkpoint = fetching(() -> storage.checkpoint(plan.baseModel(), plan.baseSha256(), plan.baseFiles()),
                e -> new CheckpointInvalidException("base model " + plan.baseModel() + ": " + e.getMessage(), e));
        Path trainFile = fetching(() -> storage.fetchData(plan.trainData()),
                e -> DataException.empty("training data " + plan.trainData() + " does not exist"));
        Path evalFile = plan.evalData() == null ? null : fetching(() -> storage.fetchData(plan.evalData()),
                e -> DataException.empty("eval data " + plan.evalData() + " does not exist"));
        Path global = plan.globalAdapter() == null ? null : fetching(() -> storage.fetchDirectory(plan.globalAdapter()),
                e -> new AdapterMismatchException("global adapter " + plan.globalAdapter() + " does not exist"));
        if (global != null) {
            InputTamperedException.verify(global, plan.globalAdapter(), Adapter.WEIGHTS_FILE, plan.globalSha256());
        }
        Path out = storage.outputDirectory(plan.output());
        try (BaseModel base = BaseModel.open(checkpoint.dir(), placement)) {
            LoraParameters params = startingAdapter(plan, base, global);
            Chunker chunker = base.chunker(plan.maxSequenceLength());
            ChatTemplate template = base.chatTemplate(plan.trainFormat(), evalFile != null && (plan.evalTask() == null
                    || plan.evalTask() == io.fedtune.api.v1alpha1.EvalTask.LanguageModeling) ? plan.evalFormat() : DataFormat.TEXT);
            Dataset trainSet = Dataset.read(trainFile, plan.trainFormat(), template);
            List<List<Segment>> trainRecords;
            TaskData eval;
            if (evalFile != null) {
                trainRecords = trainSet.records();
                eval = TaskData.read(evalFile, plan.evalTask(), plan.evalFormat(), plan.evalMaxNewTokens(), template);
            } else {
                Dataset.Split split = trainSet.split(plan.evalFraction(), plan.seed());
                trainRecords = split.train();
                eval = TaskData.languageModeling(split.eval());
            }
            Demonstrations.Sequences prepared = new Demonstrations(plan.inContextExamples(), plan.seed()).sequences(trainRecords, chunker);
            List<TokenSequence> train = prepared.sequences();
            if (plan.inContextExamples() > 0) {
                log.printf("in-context examples: up to %d per sequence, %.2f on average%n", plan.inContextExamples(),
                        prepared.meanDemonstrations());
            }
            if (train.isEmpty()) {
                throw DataException.empty("no training sequence with loss tokens in " + trainFile.getFileName());
            }
            if (trainSet.malformed() > 0) {
                log.printf("skipped %d malformed of %d lines in %s%n", trainSet.malformed(), trainSet.lines(), trainFile.getFileName());
            }
            int steps = plan.steps() != null ? plan.steps()
                    : (int) Math.ceil((plan.epochs() == null ? 1 : plan.epochs()) * (double) train.size() / plan.batchSize());
            LlamaModel model = base.model();
            log.printf("shard %s round %d: %d train sequences / %d %s eval records, %d steps, %s%n", plan.shard(), plan.round(),
                    train.size(), eval.size(), eval.task(), steps, base.placement());
            TaskScorer scorer = new TaskScorer(base, plan.maxSequenceLength(), plan.batchSize());
            TaskScore before = eval.isEmpty() ? null : scorer.score(eval, params);
            TrainingOptions options = new TrainingOptions(steps, plan.batchSize(), plan.learningRate(), plan.weightDecay(),
                    plan.gradientClipNorm(), plan.proximalMu(), plan.freezeA(), plan.seed());
            if (model.quantization() != io.fedtune.api.v1alpha1.BaseQuantization.None) {
                log.printf("base %s: %.0f MiB of weights on the device; layers recomputed in backward%n",
                        model.quantization(), model.baseBytes() / 1048576.0);
            }
            LocalTraining.Report report = new LocalTraining(model, options).run(params, train);
            TaskScore after = eval.isEmpty() ? null : scorer.score(eval, params);
            params.toAdapter().write(out);
            Map<String, String> files = new TreeMap<>();
            for (String f : List.of(AdapterConfig.FILE, Adapter.WEIGHTS_FILE)) {
                files.put(f, Sha256.of(out.resolve(f)));
            }
            ShardManifest manifest = new ShardManifest(plan.shard(), plan.round(), trainRecords.size(), report.tokens(),
                    before == null ? null : before.loss(), after == null ? null : after.loss(),
                    after == null ? 0 : after.tokens(), report.trainLoss(), steps, report.skippedSteps(), plan.rank(),
                    (System.nanoTime() - start) / 1e9, report.tokensPerSecond(), placement.deviceName(),
                    placement.precisionName(), placement.quantization().name(), checkpoint.cache().wireName(), files, prepared.meanDemonstrations(),
                    metric.name(), before == null ? null : before.metric(metric), after == null ? null : after.metric(metric),
                    before, after);
            manifest.write(out);
            // trained once: from here on only the upload is retried (ObjectStore's retry time), never the training
            log.printf("publishing %s to %s%n", OUTPUT_FILES, plan.output());
            storage.publish(out, plan.output(), OUTPUT_FILES);
            log.printf("eval %s %s -> %s, train loss %.4f, %.0f tokens/s%n", metric, figure(before, metric),
                    figure(after, metric), report.trainLoss(), report.tokensPerSecond());
            return manifest;
        }
    }

    private static String figure(TaskScore score, EvalMetric metric) {
        Double v = score == null ? null : score.metric(metric);
        return v == null ? "-" : String.format("%.4f", v);
    }

    /** The global adapter where the round starts from one (it must have this round's shape), else a fresh seeded one. */
    private static LoraParameters startingAdapter(TrainingPlan plan, BaseModel base, Path global) throws IOException {
        // PEFT loads the base from base_model_name_or_path: name the model as given (s3:// URI or path), not its cache folder.
        AdapterConfig config = new AdapterConfig(plan.rank(), plan.alpha(), plan.dropout(), plan.targets(), plan.baseModel());
        base.config().checkTargets(config.targetModules());
        if (global == null) {
            return LoraParameters.initial(config, base.config(), plan.seed());
        }
        Adapter adapter = Adapter.read(global);
        if (adapter.config().r() != plan.rank() || !adapter.config().targetModules().equals(config.targetModules())) {
            throw new AdapterMismatchException("global adapter has rank " + adapter.config().r() + " and targets "
                    + names(adapter.config().targetModules()) + ", but this round trains rank " + plan.rank() + " on "
                    + names(config.targetModules()));
        }
        return LoraParameters.from(new Adapter(config, adapter.tensors()), base.config());
    }

    private static List<String> names(List<LoraTarget> targets) {
        return targets.stream().map(LoraTarget::moduleName).toList();
    }

    private interface Fetch<T> {
        T get() throws IOException;
    }

    private interface Missing {
        IOException describe(StorageException e);
    }

    /** A missing object becomes the failure of what it was meant to be (checkpoint, data, adapter). */
    private static <T> T fetching(Fetch<T> fetch, Missing missing) throws IOException {
        try {
            return fetch.get();
        } catch (StorageException e) {
            if (e.kind() == StorageException.Kind.NOT_FOUND) {
                throw missing.describe(e);
            }
            throw e;
        }
    }
}
