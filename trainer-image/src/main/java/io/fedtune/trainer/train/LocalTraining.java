package io.fedtune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.LoraArrays;
import io.fedtune.trainer.safetensors.FloatTensor;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * One shard's local training: LoRA only, base frozen, AdamW, global gradient-norm clipping,
 * non-finite steps skipped, optional FedProx pull toward the adapter it started from.
 */
public final class LocalTraining {
    private final LlamaModel model;
    private final TrainingOptions options;

    public LocalTraining(LlamaModel model, TrainingOptions options) {
        this.model = model;
        this.options = options;
    }

    public record Report(List<Double> losses, int skippedSteps, long tokens, double seconds) {
        /** Mean of the last (up to) ten steps' losses. */
        public double trainLoss() {
            List<Double> tail = losses.subList(Math.max(0, losses.size() - 10), losses.size());
            return tail.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
        }

        public double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    /** Trains params in place. */
    public Report run(LoraParameters params, List<TokenSequence> data) {
        if (data.isEmpty()) {
            throw new IllegalArgumentException("no training sequences");
        }
        Engine.getInstance().setRandomSeed((int) options.seed());
        LoraParameters global = options.proximalMu() > 0 ? params.copy() : null;
        AdamW optimizer = new AdamW(options.learningRate(), options.weightDecay());
        List<TokenSequence> order = new ArrayList<>(data);
        Random shuffle = new Random(options.seed());
        Collections.shuffle(order, shuffle);
        int cursor = 0;
        List<Double> losses = new ArrayList<>();
        int skipped = 0;
        long tokens = 0;
        long start = System.nanoTime();
        for (int step = 0; step < options.steps(); step++) {
            List<TokenSequence> picked = new ArrayList<>(options.batchSize());
            while (picked.size() < options.batchSize()) {
                if (cursor == order.size()) {
                    Collections.shuffle(order, shuffle);
                    cursor = 0;
                }
                picked.add(order.get(cursor++));
            }
            TokenBatch batch = TokenBatch.of(picked);
            long lossTokens = batch.lossTokens();
            if (lossTokens == 0) {
                continue;
            }
            Map<String, float[]> grads = new java.util.TreeMap<>();
            double loss;
            try (NDManager stepManager = model.manager().newSubManager()) {
                LoraArrays lora = params.arrays(stepManager, true, options.freezeA());
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = model.logits(batch.inputs(stepManager), lora);
                    NDArray mean = batch.meanLoss(logits, stepManager);
                    loss = mean.getFloat();
                    collector.backward(mean);
                }
                for (Map.Entry<String, NDArray> e : lora.arrays().entrySet()) {
                    if (e.getValue().hasGradient()) {
                        try (NDArray g = e.getValue().getGradient()) {
                            grads.put(e.getKey(), g.toFloatArray());
                        }
                    }
                }
            }
            tokens += picked.stream().mapToLong(s -> s.length() - 1).sum();
            if (global != null) {
                // FedProx: gradient of mu/2 * ||w - w_global||^2
                grads.forEach((name, g) -> {
                    float[] w = params.tensors().get(name).values();
                    float[] w0 = global.tensors().get(name).values();
                    for (int i = 0; i < g.length; i++) {
                        g[i] += (float) (options.proximalMu() * (w[i] - w0[i]));
                    }
                });
            }
            double norm = 0;
            for (float[] g : grads.values()) {
                for (float x : g) {
                    norm += (double) x * x;
                }
            }
            norm = Math.sqrt(norm);
            if (!Double.isFinite(norm) || !Double.isFinite(loss)) {
                skipped++;
                continue;
            }
            losses.add(loss);
            double clip = norm > options.gradientClipNorm() ? options.gradientClipNorm() / norm : 1.0;
            optimizer.beginStep();
            for (Map.Entry<String, float[]> e : grads.entrySet()) {
                float[] g = e.getValue();
                if (clip < 1.0) {
                    for (int i = 0; i < g.length; i++) {
                        g[i] = (float) (g[i] * clip);
                    }
                }
                FloatTensor p = params.tensors().get(e.getKey());
                optimizer.update(e.getKey(), p.values(), g);
            }
        }
        if (losses.isEmpty()) {
            throw new TrainingDivergedException("all " + skipped + " steps had a non-finite loss or gradient norm");
        }
        return new Report(losses, skipped, tokens, (System.nanoTime() - start) / 1e9);
    }
}
