package io.fedtune.trainer.train;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.ModelConfig;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Measures LoRA training throughput and model FLOP utilisation against a matmul ceiling taken on the same
 * device, dtype and thread count in the same process.
 */
public final class Throughput {
    private Throughput() {
    }

    public record Result(long parameters, double tokensPerSecond, double modelFlopsPerToken, double achievedGflops,
                         double matmulCeilingGflops, double mfu, long peakRssBytes, double firstLoss, double lastLoss) {
    }

    public static Result measure(LlamaModel model, AdapterConfig lora, int batch, int seqLen, int steps, long seed) {
        return measure(model, lora, batch, seqLen, steps, seed, false);
    }

    /** @param recompute layer-wise recomputation in backward (always on over a quantized base) */
    public static Result measure(LlamaModel model, AdapterConfig lora, int batch, int seqLen, int steps, long seed,
                                 boolean recompute) {
        ModelConfig c = model.config();
        Random random = new Random(seed);
        List<TokenSequence> data = new ArrayList<>();
        for (int i = 0; i < batch * (steps + 2); i++) {
            int[] t = new int[seqLen + 1];
            boolean[] loss = new boolean[seqLen + 1];
            for (int j = 0; j <= seqLen; j++) {
                t[j] = random.nextInt(c.vocabSize());
            }
            Arrays.fill(loss, 1, seqLen + 1, true);
            data.add(new TokenSequence(t, loss));
        }
        LoraParameters params = LoraParameters.initial(lora, c, seed);
        // two warm-up steps allocate and pick kernels; they are not timed
        new LocalTraining(model, new TrainingOptions(2, batch, 1e-4, 0, 1, 0, false, seed, recompute))
                .run(params, data.subList(0, 2 * batch));
        LocalTraining.Report report = new LocalTraining(model, new TrainingOptions(steps, batch, 1e-4, 0, 1, 0, false, seed, recompute))
                .run(params, data.subList(2 * batch, data.size()));
        double flopsPerToken = trainingFlopsPerToken(c, seqLen);
        double achieved = report.tokensPerSecond() * flopsPerToken / 1e9;
        double ceiling = matmulGflops(model.manager(), model.computeType(), batch * seqLen, c.hiddenSize(), c.intermediateSize());
        return new Result(c.parameterCount(), report.tokensPerSecond(), flopsPerToken, achieved, ceiling, achieved / ceiling,
                peakRss(), report.losses().get(0), report.losses().get(report.losses().size() - 1));
    }

    /**
     * LoRA with a frozen base: the forward pass (2 FLOPs per weight per token, plus attention) and a backward pass that
     * needs activation gradients but no base weight gradients (about as much again). LoRA's own small terms are left out.
     */
    public static double trainingFlopsPerToken(ModelConfig c, int seqLen) {
        // the embedding lookup is not a matmul but the LM head is: a tied table counts once, as the head
        double matmulWeights = c.parameterCount() - (c.tieWordEmbeddings() ? 0.0 : (double) c.vocabSize() * c.hiddenSize());
        double attention = 2.0 * 2 * c.layers() * seqLen * c.qDim() / 2; // causal: half of QK^T and AV on average
        double forward = 2 * matmulWeights + attention;
        return 2 * forward;
    }

    static double matmulGflops(NDManager parent, DataType type, int m, int k, int n) {
        try (NDManager mm = parent.newSubManager()) {
            NDArray a = mm.randomNormal(new Shape(m, k)).toType(type, false);
            NDArray b = mm.randomNormal(new Shape(k, n)).toType(type, false);
            a.matMul(b).close();
            int reps = 0;
            long start = System.nanoTime();
            while (System.nanoTime() - start < 2_000_000_000L || reps < 3) {
                NDArray r = a.matMul(b);
                r.toType(DataType.FLOAT32, false).getFloat(0, 0);
                r.close();
                reps++;
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            return 2.0 * m * k * n * reps / seconds / 1e9;
        }
    }

    /** VmHWM from /proc (Linux), or -1 elsewhere. */
    public static long peakRss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
        return -1;
    }
}
