package io.fedtune.trainer.pretrain;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import io.fedtune.trainer.data.Segment;
import io.fedtune.trainer.data.TextTokenizer;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.model.Scalars;
import io.fedtune.trainer.safetensors.FloatTensor;
import io.fedtune.trainer.safetensors.SafetensorsReader;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.train.AdamW;
import io.fedtune.trainer.train.TokenBatch;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Makes a small base model in Hugging Face format from a text corpus: learns a byte-level BPE
 * tokenizer, then trains every weight of a Llama-architecture decoder from a seeded random start.
 */
public final class Pretraining {
    private final PretrainOptions options;
    private final PrintStream log;

    public Pretraining(PretrainOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    public record Report(double uniformLoss, double evalLossBefore, double evalLossAfter, long trainTokens,
                         int steps, double seconds, long parameters) {
    }

    public Report run(List<List<Segment>> records, Path out) throws IOException {
        Files.createDirectories(out);
        StringBuilder corpus = new StringBuilder();
        records.forEach(r -> r.forEach(s -> corpus.append(s.text()).append("\n\n")));
        long t0 = System.nanoTime();
        ByteLevelBpe bpe = ByteLevelBpe.train(corpus.toString(), options.vocabSize());
        bpe.write(out.resolve(Checkpoint.TOKENIZER));
        log.printf("tokenizer: %d ids learned in %.1f s%n", bpe.vocabSize(), (System.nanoTime() - t0) / 1e9);

        ModelConfig config = new ModelConfig(options.architecture(), bpe.vocabSize(), options.hiddenSize(),
                options.intermediateSize(), options.layers(), options.heads(), options.kvHeads(),
                options.hiddenSize() / options.heads(), 1e-5, 10000.0, options.tieEmbeddings(),
                options.architecture().equals("Qwen2ForCausalLM"), options.sequenceLength(), ByteLevelBpe.BOS, ByteLevelBpe.EOS);
        List<TokenSequence> windows = windows(records, out.resolve(Checkpoint.TOKENIZER), config.vocabSize());
        Collections.shuffle(windows, new Random(options.seed()));
        int evalCount = Math.max(1, windows.size() / 20);
        List<TokenSequence> eval = windows.subList(0, evalCount);
        List<TokenSequence> train = windows.subList(evalCount, windows.size());
        log.printf("corpus: %d training and %d eval windows of %d tokens%n", train.size(), eval.size(), options.sequenceLength());

        Path init = out.resolve("init.tmp");
        RandomCheckpoint.write(init, config, options.seed());
        Map<String, FloatTensor> weights;
        try (SafetensorsReader r = SafetensorsReader.open(init.resolve(Checkpoint.WEIGHTS))) {
            weights = r.readAll();
        }
        Files.delete(init.resolve(Checkpoint.WEIGHTS));
        Files.delete(init.resolve(ModelConfig.FILE));
        Files.delete(init);

        Engine.getInstance().setRandomSeed((int) options.seed());
        AdamW optimizer = new AdamW(options.learningRate(), 0.01);
        long tokens = 0;
        long start = System.nanoTime();
        double before;
        double after;
        try (LlamaModel model = LlamaModel.over(config, NDManager.newBaseManager(Device.cpu(), "PyTorch"), DataType.FLOAT32)) {
            before = evaluate(model, weights, eval);
            log.printf("eval loss before: %.4f (uniform over the vocabulary: %.4f)%n", before, Math.log(config.vocabSize()));
            Random order = new Random(options.seed());
            int warmup = Math.max(1, options.steps() / 20);
            double smoothed = Double.NaN;
            for (int step = 0; step < options.steps(); step++) {
                List<TokenSequence> batch = new ArrayList<>();
                for (int i = 0; i < options.batchSize(); i++) {
                    batch.add(train.get(order.nextInt(train.size())));
                }
                double lr = step < warmup ? (step + 1.0) / warmup
                        : 0.1 + 0.9 * 0.5 * (1 + Math.cos(Math.PI * (step - warmup) / Math.max(1, options.steps() - warmup)));
                double loss = step(model, weights, TokenBatch.of(batch), optimizer, lr);
                tokens += batch.stream().mapToLong(s -> s.length() - 1).sum();
                smoothed = Double.isNaN(smoothed) ? loss : 0.95 * smoothed + 0.05 * loss;
                if ((step + 1) % 25 == 0 || step + 1 == options.steps()) {
                    double secs = (System.nanoTime() - start) / 1e9;
                    log.printf("step %d/%d  loss %.4f  %.0f tokens/s%n", step + 1, options.steps(), smoothed, tokens / secs);
                }
            }
            after = evaluate(model, weights, eval);
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Files.writeString(out.resolve(ModelConfig.FILE), config.toJson());
        SafetensorsWriter.write(out.resolve(Checkpoint.WEIGHTS), weights, Map.of("format", "pt"));
        log.printf("eval loss after: %.4f (perplexity %.1f)%n", after, Math.exp(after));
        return new Report(Math.log(config.vocabSize()), before, after, tokens, options.steps(), seconds, config.parameterCount());
    }

    private List<TokenSequence> windows(List<List<Segment>> records, Path tokenizerFile, int vocab) throws IOException {
        List<Integer> stream = new ArrayList<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerFile, vocab)) {
            for (List<Segment> r : records) {
                for (Segment s : r) {
                    for (int id : tokenizer.encode(s.text())) {
                        stream.add(id);
                    }
                    stream.add(ByteLevelBpe.EOS);
                }
            }
        }
        int len = options.sequenceLength();
        List<TokenSequence> out = new ArrayList<>();
        for (int i = 0; i + len - 1 <= stream.size(); i += len - 1) {
            int[] t = new int[len];
            t[0] = ByteLevelBpe.BOS;
            for (int j = 1; j < len; j++) {
                t[j] = stream.get(i + j - 1);
            }
            boolean[] loss = new boolean[len];
            Arrays.fill(loss, 1, len, true);
            out.add(new TokenSequence(t, loss));
        }
        return out;
    }

    private double step(LlamaModel model, Map<String, FloatTensor> weights, TokenBatch batch, AdamW optimizer, double lrScale) {
        Map<String, float[]> grads = new TreeMap<>();
        double loss;
        try (NDManager m = model.manager().newSubManager()) {
            Map<String, NDArray> arrays = arrays(m, weights, true);
            model.useWeights(arrays);
            try (GradientCollector gc = Engine.getInstance().newGradientCollector()) {
                NDArray mean = Scalars.div(batchLoss(model, batch, m), batch.lossTokens());
                loss = mean.getFloat();
                gc.backward(mean);
            }
            for (Map.Entry<String, NDArray> e : arrays.entrySet()) {
                try (NDArray g = e.getValue().getGradient()) {
                    grads.put(e.getKey(), g.toFloatArray());
                }
            }
        }
        double norm = 0;
        for (float[] g : grads.values()) {
            for (float x : g) {
                norm += (double) x * x;
            }
        }
        norm = Math.sqrt(norm);
        if (!Double.isFinite(norm)) {
            return loss;
        }
        optimizer.beginStep();
        for (Map.Entry<String, float[]> e : grads.entrySet()) {
            float[] g = e.getValue();
            for (int i = 0; i < g.length; i++) {
                g[i] *= (float) Math.min(1.0, 1.0 / norm);
            }
            optimizer.update(e.getKey(), weights.get(e.getKey()).values(), g, lrScale);
        }
        return loss;
    }

    private static Map<String, NDArray> arrays(NDManager m, Map<String, FloatTensor> weights, boolean grad) {
        Map<String, NDArray> arrays = new LinkedHashMap<>();
        weights.forEach((name, t) -> {
            NDArray a = m.create(t.values(), new Shape(t.shape()));
            a.setRequiresGradient(grad);
            arrays.put(name, a);
        });
        return arrays;
    }

    private static NDArray batchLoss(LlamaModel model, TokenBatch batch, NDManager m) {
        NDArray ids = m.create(batch.inputs(), new Shape(batch.batch(), batch.time()));
        NDArray logits = model.logits(ids, null);
        NDArray target = m.create(batch.targets(), new Shape(batch.batch(), batch.time(), 1));
        NDArray picked = logits.logSoftmax(-1).gather(target, 2).reshape(batch.batch(), batch.time());
        return picked.mul(m.create(batch.mask(), new Shape(batch.batch(), batch.time()))).sum().neg();
    }

    private double evaluate(LlamaModel model, Map<String, FloatTensor> weights, List<TokenSequence> eval) {
        double total = 0;
        long count = 0;
        try (NDManager m = model.manager().newSubManager()) {
            model.useWeights(arrays(m, weights, false));
            for (int i = 0; i < eval.size(); i += options.batchSize()) {
                TokenBatch b = TokenBatch.of(eval.subList(i, Math.min(eval.size(), i + options.batchSize())));
                try (NDManager step = m.newSubManager()) {
                    total += batchLoss(model, b, step).getFloat();
                }
                count += b.lossTokens();
            }
        }
        return total / count;
    }
}
