package io.fedtune.trainer.cli;

import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.BaseQuantization;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.LocalTrainingSpec;
import io.fedtune.api.v1alpha1.LoraSpec;
import io.fedtune.api.v1alpha1.TargetModule;
import io.fedtune.api.v1alpha1.TaskDataset;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.LoraTarget;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.shard.ShardManifest;
import io.fedtune.trainer.shard.ShardTraining;
import io.fedtune.trainer.shard.TrainingPlan;
import io.fedtune.trainer.storage.StorageSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;

@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train one round of LoRA for one shard and write adapter_config.json, adapter_model.safetensors and manifest.json.",
                "With FEDTUNE_TASK_FILE or FEDTUNE_TASK set (the trainer contract, trainer-image/CONTRACT.md) the task comes from it; otherwise from the options."})
final class TrainCommand implements Callable<Integer> {
    @Option(names = "--base", description = "base checkpoint directory or s3:// prefix") String base;
    @Option(names = "--base-sha256", description = "expected SHA-256 of model.safetensors") String baseSha;
    @Option(names = "--data", description = "training JSONL, local or s3://") String data;
    @Option(names = "--format", defaultValue = "Text", description = "Text, PromptCompletion, Chat or PromptCompletionChat (prompt and completion as a user and an assistant turn of the chat template) (default ${DEFAULT-VALUE})") String format;
    @Option(names = "--eval", description = "eval JSONL; without it --eval-fraction of --data is held out") String eval;
    @Option(names = "--eval-task", defaultValue = "LanguageModeling", description = "what --eval measures: LanguageModeling (records of --format), Classification, MultipleChoice or Generation (default ${DEFAULT-VALUE})") EvalTask evalTask;
    @Option(names = "--eval-metric", description = "the metric reported as evalBefore/evalAfter (default: the task's)") EvalMetric evalMetric;
    @Option(names = "--eval-max-new-tokens", description = "Generation: the most tokens per answer (default " + TaskDataset.DEFAULT_MAX_NEW_TOKENS + ")") Integer evalMaxNewTokens;
    @Option(names = "--global-adapter", description = "adapter directory or s3:// prefix to start from") String globalAdapter;
    @Option(names = "--out", description = "output directory or s3:// prefix") String out;
    @Option(names = "--shard", defaultValue = "local") String shard;
    @Option(names = "--round", defaultValue = "1") int round;
    @Option(names = "--rank", defaultValue = "8") int rank;
    @Option(names = "--alpha", defaultValue = "16") double alpha;
    @Option(names = "--dropout", defaultValue = "0.05") double dropout;
    @Option(names = "--targets", split = ",", defaultValue = "q_proj,v_proj", description = "target modules, as the base model "
            + "names them (Phi-3: qkv_proj, o_proj, gate_up_proj, down_proj; default ${DEFAULT-VALUE})") List<String> targets;
    @Option(names = "--freeze-a", description = "FFA-LoRA: keep A at its seeded initial value") boolean freezeA;
    @Option(names = "--steps", description = "optimizer steps (default 50 unless --epochs)") Integer steps;
    @Option(names = "--epochs") Integer epochs;
    @Option(names = "--batch-size", defaultValue = "8") int batchSize;
    @Option(names = "--lr", defaultValue = "3e-4") double lr;
    @Option(names = "--weight-decay", defaultValue = "0") double weightDecay;
    @Option(names = "--max-seq-len", defaultValue = "256") int maxSeqLen;
    @Option(names = "--precision", defaultValue = "Auto", description = "Auto, FP32 or BF16") String precision;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--base-quantization", defaultValue = "None", description = "None, Int8 or Int4: hold the base's "
            + "projection weights quantized (QLoRA-style; layers are recomputed in backward). Default ${DEFAULT-VALUE}")
    BaseQuantization baseQuantization;
    @Option(names = "--mu", defaultValue = "0", description = "FedProx proximal term") double mu;
    @Option(names = "--clip", defaultValue = "1.0", description = "gradient-norm clipping threshold") double clip;
    @Option(names = "--eval-fraction", defaultValue = "0.1") double evalFraction;
    @Option(names = "--in-context-examples", defaultValue = "0",
            description = "demonstrations from the shard's own training records before each training sequence, without loss (0..16)")
    int inContextExamples;
    @Option(names = "--termination-log", description = "where to write the JSON result (default: $FEDTUNE_TERMINATION_LOG)") Path terminationLog;

    private final Environment env;

    TrainCommand() {
        this(Environment.system());
    }

    TrainCommand(Environment env) {
        this.env = env;
    }

    @Override
    public Integer call() {
        Path termination = terminationLog != null ? terminationLog
                : env.get(TrainerEnv.TERMINATION_LOG) != null ? Path.of(env.get(TrainerEnv.TERMINATION_LOG)) : null;
        TrainResult result;
        try {
            var task = env.task();
            result = task.isPresent() ? runTask(ContractJson.read(task.get(), TrainTask.class)) : runOptions();
        } catch (Exception | OutOfMemoryError e) {
            Failure f = Failure.of(e);
            result = TrainResult.failed(f.reason(), f.message());
            System.err.println("train failed: " + f.reason() + ": " + f.message());
        }
        TerminationMessage.write(termination, TerminationMessage.train(result));
        return result.outcome() == Outcome.Succeeded ? 0 : 1;
    }

    private TrainResult runOptions() throws IOException {
        if (base == null || data == null || out == null) {
            throw new IllegalArgumentException("train needs --base, --data and --out (or a task in "
                    + TrainerEnv.TASK + " or " + TrainerEnv.TASK_FILE + ")");
        }
        try (StorageSession storage = env.session()) {
            return train(storage, new TrainingPlan(shard, round, base, baseSha, null, data, DataFormat.parse(format), eval,
                    DataFormat.parse(format), evalTask, evalMetric, evalMaxNewTokens, globalAdapter, null, out, rank, alpha, dropout,
                    targets.stream().map(LoraTarget::fromModuleName).toList(), freezeA,
                    steps == null && epochs == null ? Integer.valueOf(LocalTrainingSpec.DEFAULT_STEPS) : steps, epochs,
                    batchSize, lr, weightDecay, maxSeqLen, precision, seed, mu, clip, evalFraction, inContextExamples,
                    baseQuantization));
        }
    }

    private TrainResult runTask(TrainTask task) throws IOException {
        if (task.baseModel() == null || task.output() == null || task.train() == null || task.storage() == null) {
            throw new IllegalArgumentException("task lacks baseModel, output, train or storage");
        }
        LoraSpec lora = task.lora() == null ? new LoraSpec() : task.lora();
        LocalTrainingSpec t = task.training() == null ? new LocalTrainingSpec() : task.training();
        var dataStorage = task.dataStorage() == null ? task.storage() : task.dataStorage();
        try (StorageSession storage = task.access() != null ? env.presignedSession(task)
                : env.session(task.storage().endpoint(), task.storage().region(), dataStorage.endpoint(), dataStorage.region())) {
            Integer taskSteps = t.steps == null && t.epochs == null ? Integer.valueOf(LocalTrainingSpec.DEFAULT_STEPS) : t.steps;
            return train(storage, new TrainingPlan(task.shard(), task.round(), task.baseModel(), task.baseModelSha256(),
                    recorded(task.access() == null ? null : task.access().baseModel()),
                    task.train().uri, DataFormat.parse(task.train().format.name()),
                    task.eval() == null ? null : task.eval().uri,
                    task.eval() == null || task.eval().format == null ? DataFormat.TEXT : DataFormat.parse(task.eval().format.name()),
                    task.eval() == null ? null : task.eval().task, task.eval() == null ? null : task.eval().metric,
                    task.eval() == null ? null : task.eval().maxNewTokens, task.globalAdapter(),
                    task.globalAdapterSha256(), task.output(), lora.rank, lora.alpha, lora.dropout,
                    lora.targetModules.stream().map(TargetModule::moduleName).map(LoraTarget::fromModuleName).toList(),
                    Boolean.TRUE.equals(lora.freezeA), taskSteps, t.epochs, t.batchSize, t.learningRate, t.weightDecay,
                    t.maxSequenceLength, t.precision.name(), t.seed, t.proximalMu, t.gradientClipNorm, t.evalFraction,
                    t.inContextExamples == null ? 0 : t.inContextExamples,
                    t.baseQuantization == null ? BaseQuantization.None : t.baseQuantization));
        }
    }

    /** The SHA-256 recorded for each granted file, by name (null where none is recorded); null without URLs. */
    private static Map<String, String> recorded(Map<String, PresignedAccess.Get> granted) {
        if (granted == null) {
            return null;
        }
        Map<String, String> files = new TreeMap<>();
        granted.forEach((name, get) -> files.put(name, get == null ? null : get.sha256()));
        return files;
    }

    private TrainResult train(StorageSession storage, TrainingPlan plan) throws IOException {
        Placement placement = Placement.of(plan.precision(), env.device()).quantized(plan.baseQuantization());
        ShardManifest m = new ShardTraining(System.err).run(plan, placement, storage);
        return new TrainResult(Outcome.Succeeded, null, null, plan.shard(), plan.round(), plan.output(),
                m.files().get(Adapter.WEIGHTS_FILE), plan.rank(), m.samples(), m.tokens(), m.trainLoss(),
                m.evalLossBefore(), m.evalLossAfter(), m.skippedSteps(), m.seconds(), m.tokensPerSecond(), m.device(),
                m.precision(), m.cache(), m.evalMetric(), m.evalBefore(), m.evalAfter());
    }
}
