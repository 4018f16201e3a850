package io.fedtune.trainer.train;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.GradientCollector;
import io.fedtune.api.v1alpha1.BaseQuantization;
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
 * non-finite steps skipped, optional FedProx pull toward the adapter it started from. With recomputeLayers, or over a
 * quantized base, the forward pass keeps only each decoder layer's input and backward recomputes one layer at a time
 * ({@link #recomputedStep}).
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
        boolean recompute = options.recomputeLayers() || model.quantization() != BaseQuantization.None;
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
            Gradients computed = gradients(params, batch, step, recompute);
            Map<String, float[]> grads = computed.grads();
            double loss = computed.loss();
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
    /** One step's mean loss and the LoRA gradients by tensor name. */
    record Gradients(double loss, Map<String, float[]> grads) {
    }

    /** The loss and LoRA gradients of one batch at the given adapter, recorded whole or recomputed layer by layer. */
    Gradients gradients(LoraParameters params, TokenBatch batch, int step, boolean recompute) {
        Map<String, float[]> grads = new java.util.TreeMap<>();
        double loss;
        try (NDManager stepManager = model.manager().newSubManager()) {
            LoraArrays lora = params.arrays(stepManager, true, options.freezeA());
            if (recompute) {
                loss = recomputedStep(batch, lora, stepManager, step);
            } else {
                try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                    NDArray logits = model.logits(batch.inputs(stepManager), lora);
                    NDArray mean = batch.meanLoss(logits, stepManager);
                    loss = mean.getFloat();
                    collector.backward(mean);
                }
            }
            for (Map.Entry<String, NDArray> e : lora.arrays().entrySet()) {
                if (e.getValue().hasGradient()) {
                    try (NDArray g = e.getValue().getGradient()) {
                        grads.put(e.getKey(), g.toFloatArray());
                    }
                }
            }
        }
        return new Gradients(loss, grads);
    }

    /**
     * One step's loss, with the LoRA gradients accumulated in the adapter arrays, by layer-wise recomputation
     * (activation checkpointing). PyTorch autograd keeps every tensor a recorded op needs for backward, the
     * dequantized weight of each projection among them, so a recorded forward over a quantized base would hold every
     * layer's dequantized weights at once. Instead the forward runs unrecorded and keeps each layer's input; the head
     * and loss are recorded from the last hidden state, and backward gives the loss's gradient there; then from the top
     * each layer is recomputed, recorded, from its saved input, and backward on sum(output * upstream gradient), a
     * vector-Jacobian product, adds that layer's LoRA gradients and gives the gradient for the layer below. Only one
     * layer's graph (and dequantized weights) is alive at a time. Dropout draws the same masks in both passes: the
     * RNG is reseeded per (step, layer) before each.
     */
    private double recomputedStep(TokenBatch batch, LoraArrays lora, NDManager stepManager, int step) {
        int layers = model.config().layers();
        NDArray[] inputs = new NDArray[layers + 1];
        boolean recording = JniUtils.isGradMode();
        JniUtils.setGradMode(false);
        try {
            inputs[0] = model.embed(batch.inputs(stepManager));
            inputs[0].attach(stepManager);
            for (int i = 0; i < layers; i++) {
                try (NDManager scope = stepManager.newSubManager()) {
                    inputs[i].tempAttach(scope);
                    reseed(step, i);
                    NDArray out = model.layer(i, inputs[i], lora);
                    out.attach(stepManager);
                    inputs[i + 1] = out;
                }
            }
        } finally {
            JniUtils.setGradMode(recording);
        }
        double loss;
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray upstream;
            try (NDManager scope = stepManager.newSubManager()) {
                NDArray top = inputs[layers];
                top.tempAttach(scope);
                top.setRequiresGradient(true);
                NDArray mean = batch.meanLoss(model.head(top), scope);
                loss = mean.getFloat();
                collector.backward(mean);
                upstream = top.getGradient().duplicate();
                upstream.attach(stepManager);
            }
            inputs[layers].close();
            for (int i = layers - 1; i >= 0; i--) {
                try (NDManager scope = stepManager.newSubManager()) {
                    NDArray x = inputs[i];
                    x.tempAttach(scope);
                    if (i > 0) {
                        x.setRequiresGradient(true);
                    }
                    reseed(step, i);
                    NDArray out = model.layer(i, x, lora);
                    collector.backward(out.mul(upstream).sum());
                    upstream.close();
                    upstream = null;
                    if (i > 0) {
                        upstream = x.getGradient().duplicate();
                        upstream.attach(stepManager);
                    }
                }
                inputs[i].close();
            }
        }
        return loss;
    }

    private void reseed(int step, int layer) {
        Engine.getInstance().setRandomSeed((int) (options.seed() * 1_000_003L + step * 1_009L + layer));
    }
}
