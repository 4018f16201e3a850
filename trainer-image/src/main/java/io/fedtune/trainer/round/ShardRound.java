package io.fedtune.trainer.round;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.adapter.AdapterMismatchException;
import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.DataException;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.Segment;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.storage.Sha256;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LocalTraining;
import io.fedtune.trainer.train.LoraParameters;
import io.fedtune.trainer.train.TrainingOptions;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** One round of local training for one shard: load, evaluate the starting adapter, train, evaluate, write adapter and manifest. */
public final class ShardRound {
    private final PrintStream log;

    public ShardRound(PrintStream log) {
        this.log = log;
    }

    public Manifest run(RoundInputs in, Path out) throws IOException {
        long start = System.nanoTime();
        Checkpoint checkpoint = Checkpoint.open(in.checkpoint());
        // PEFT loads the base from base_model_name_or_path: name the model as given (s3:// URI or path), not its cache folder.
        AdapterConfig adapterConfig = new AdapterConfig(in.rank(), in.alpha(), in.dropout(), in.targets(), in.baseModel());
        LoraParameters params;
        if (in.globalAdapter() != null) {
            Adapter global = Adapter.read(in.globalAdapter());
            if (global.config().r() != in.rank() || !global.config().targetModules().equals(adapterConfig.targetModules())) {
                throw new AdapterMismatchException("global adapter has rank " + global.config().r() + " and targets "
                        + names(global.config().targetModules()) + ", but this round trains rank " + in.rank() + " on "
                        + names(adapterConfig.targetModules()));
            }
            params = LoraParameters.from(new Adapter(adapterConfig, global.tensors()), checkpoint.config());
        } else {
            params = LoraParameters.initial(adapterConfig, checkpoint.config(), in.seed());
        }
        try (TextTokenizer tokenizer = TextTokenizer.load(checkpoint.tokenizerFile(), checkpoint.config().vocabSize())) {
            Chunker chunker = new Chunker(tokenizer, in.maxSequenceLength(), checkpoint.config().bosTokenId(),
                    checkpoint.config().eosTokenId());
            Dataset trainSet = Dataset.read(in.trainData(), in.trainFormat());
            List<List<Segment>> trainRecords;
            List<List<Segment>> evalRecords;
            if (in.evalData() != null) {
                trainRecords = trainSet.records();
                evalRecords = Dataset.read(in.evalData(), in.evalFormat()).records();
            } else {
                Dataset.Split split = trainSet.split(in.evalFraction(), in.seed());
                trainRecords = split.train();
                evalRecords = split.eval();
            }
            List<TokenSequence> train = chunker.sequences(trainRecords);
            List<TokenSequence> eval = chunker.sequences(evalRecords);
            if (train.isEmpty()) {
                throw DataException.empty("no training sequence with loss tokens in " + in.trainData().getFileName());
            }
            if (trainSet.malformed() > 0) {
                log.printf("skipped %d malformed of %d lines in %s%n", trainSet.malformed(), trainSet.lines(), in.trainData().getFileName());
            }
            int steps = in.steps() != null ? in.steps()
                    : (int) Math.ceil((in.epochs() == null ? 1 : in.epochs()) * (double) train.size() / in.batchSize());
            boolean gpu = Engine.getInstance().getGpuCount() > 0;
            DataType type = "BF16".equalsIgnoreCase(in.precision()) || (gpu && "Auto".equalsIgnoreCase(in.precision()))
                    ? DataType.BFLOAT16 : DataType.FLOAT32;
            try (LlamaModel model = LlamaModel.load(checkpoint, gpu ? Device.gpu() : Device.cpu(), type)) {
                log.printf("shard %s round %d: %d train / %d eval sequences, %d steps, %s on %s%n", in.shard(), in.round(),
                        train.size(), eval.size(), steps, type, gpu ? "GPU" : "CPU");
                Evaluation.Result before = eval.isEmpty() ? null : Evaluation.run(model, params, eval, in.batchSize());
                TrainingOptions options = new TrainingOptions(steps, in.batchSize(), in.learningRate(), in.weightDecay(),
                        in.gradientClipNorm(), in.proximalMu(), in.freezeA(), in.seed());
                LocalTraining.Report report = new LocalTraining(model, options).run(params, train);
                Evaluation.Result after = eval.isEmpty() ? null : Evaluation.run(model, params, eval, in.batchSize());
                params.toAdapter().write(out);
                Map<String, String> files = new TreeMap<>();
                for (String f : List.of(AdapterConfig.FILE, Adapter.WEIGHTS_FILE)) {
                    files.put(f, Sha256.of(out.resolve(f)));
                }
                Manifest manifest = new Manifest(in.shard(), in.round(), trainRecords.size(), report.tokens(),
                        before == null ? null : before.meanLoss(), after == null ? null : after.meanLoss(),
                        after == null ? 0 : after.tokens(), report.trainLoss(), steps, report.skippedSteps(), in.rank(),
                        (System.nanoTime() - start) / 1e9, report.tokensPerSecond(), files);
                manifest.write(out);
                log.printf("eval loss %s -> %s, train loss %.4f, %.0f tokens/s%n", before == null ? "-" : String.format("%.4f", before.meanLoss()),
                        after == null ? "-" : String.format("%.4f", after.meanLoss()), report.trainLoss(), report.tokensPerSecond());
                return manifest;
            }
        }
    }

    private static List<String> names(List<io.fedtune.trainer.adapter.LoraTarget> targets) {
        return targets.stream().map(io.fedtune.trainer.adapter.LoraTarget::moduleName).toList();
    }
}
