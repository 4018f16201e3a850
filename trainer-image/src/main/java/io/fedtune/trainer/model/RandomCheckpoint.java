package io.fedtune.trainer.model;

import io.fedtune.trainer.safetensors.Dtype;
import io.fedtune.trainer.safetensors.SafetensorsWriter;
import io.fedtune.trainer.safetensors.TensorInfo;
import io.fedtune.trainer.safetensors.TensorSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a checkpoint with seeded random weights (normal, std 0.02; norms at 1, Gemma's at 0 since it scales by
 * 1 + weight): for tests and benchmarks.
 */
public final class RandomCheckpoint {
    /**
     * meta-llama/Llama-3.2-1B's shape (config.json as published: 16 layers, 32 query and 8 key/value heads, tied
     * embeddings, llama3 rope scaling), for benchmarks at a real size; 1.24 billion parameters, 4.9 GB in float32.
     */
    public static final ModelConfig LLAMA_3_2_1B = new ModelConfig("LlamaForCausalLM", 128256, 2048, 8192, 16, 32, 8, 64,
            1e-5, 500000.0, true, false, 131072, 128000, 128001).withRopeScaling(RopeScaling.llama3(32, 1, 4, 8192));
    /** About 100M parameters: 12 layers of width 768, 12 heads (4 key/value), vocabulary 32k, tied. */
    public static final ModelConfig LLAMA_100M = new ModelConfig("LlamaForCausalLM", 32000, 768, 2048, 12, 12, 4, 64, 1e-5,
            10000.0, true, false, 2048, 1, 2);
    /** Qwen/Qwen3-0.6B's config.json: 28 layers, 16 query and 8 key/value heads of 128, tied, vocabulary 151,936. */
    public static final ModelConfig QWEN3_0_6B = new ModelConfig(ModelConfig.QWEN3, 151936, 1024, 3072, 28, 16, 8, 128,
            1e-6, 1_000_000.0, true, false, 40960, 151643, 151645);
    /**
     * google/gemma-3-1b-pt's text config: 26 layers (5 sliding with window 512, then a global one), 4 query heads and 1
     * key/value head of 256, vocabulary 262,144, no soft-capping, local RoPE base 10000.
     */
    public static final ModelConfig GEMMA_3_1B = new ModelConfig(Gemma.GEMMA3, 262144, 1152, 6912, 26, 4, 1, 256, 1e-6,
            1_000_000.0, true, false, 32768, 2, 1).withGemma(new Gemma(256, null, null, Gemma.pattern(26, 6), 10000.0), 512);
    /**
     * microsoft/Phi-4-mini-instruct's shape: 32 layers of width 3072, 24 query and 8 key/value heads of 128, 96 of them
     * rotated, vocabulary 200,064, tied; plain RoPE, as its longrope (which fedtune computes) only changes the
     * frequencies, not the cost.
     */
    public static final ModelConfig PHI_4_MINI = new ModelConfig(ModelConfig.PHI3, 200064, 3072, 8192, 32, 24, 8, 128, 1e-5,
            10000.0, true, false, 131072, 199999, 199999).withPartialRotaryFactor(0.75);
    /** The shapes {@code bench --random NAME} knows. */
    public static final Map<String, ModelConfig> SHAPES = Map.of("100m", LLAMA_100M, "llama-3.2-1b", LLAMA_3_2_1B,
            "qwen3-0.6b", QWEN3_0_6B, "gemma-3-1b", GEMMA_3_1B, "phi-4-mini", PHI_4_MINI);

    private RandomCheckpoint() {
    }

    /** The config with only its first layers (each keeping its sliding or global attention), for benchmarks that fit. */
    public static ModelConfig withLayers(ModelConfig c, int layers) {
        if (layers < 1 || layers > c.layers()) {
            throw new IllegalArgumentException("layers must be in [1, " + c.layers() + "] for " + c.architecture() + ", got " + layers);
        }
        Gemma g = c.gemma() == null ? null : new Gemma(c.gemma().queryPreAttnScalar(), c.gemma().attnLogitSoftcapping(),
                c.gemma().finalLogitSoftcapping(), c.gemma().slidingLayers().subList(0, layers), c.gemma().ropeLocalBaseFreq());
        return new ModelConfig(c.architecture(), c.vocabSize(), c.hiddenSize(), c.intermediateSize(), layers, c.heads(),
                c.kvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.tieWordEmbeddings(), c.attentionBias(),
                c.maxPositionEmbeddings(), c.bosTokenId(), c.eosTokenId(), c.ropeScaling(), c.slidingWindow(),
                Math.min(c.windowFromLayer(), layers), c.partialRotaryFactor(), g);
    }

    /** The config with another vocabulary size (a smaller table where the real one does not fit). */
    public static ModelConfig withVocab(ModelConfig c, int vocab) {
        if (vocab < 1) {
            throw new IllegalArgumentException("vocab must be >= 1, got " + vocab);
        }
        return new ModelConfig(c.architecture(), vocab, c.hiddenSize(), c.intermediateSize(), c.layers(), c.heads(),
                c.kvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.tieWordEmbeddings(), c.attentionBias(),
                c.maxPositionEmbeddings(), c.bosTokenId() == null ? null : Math.min(c.bosTokenId(), vocab - 1),
                c.eosTokenId() == null ? null : Math.min(c.eosTokenId(), vocab - 1), c.ropeScaling(), c.slidingWindow(),
                c.windowFromLayer(), c.partialRotaryFactor(), c.gemma());
    }

    public static void write(Path dir, ModelConfig config, long seed) throws IOException {
        write(dir, config, seed, 0.02);
    }

    /** With std above 0.02 the norms are jittered too, so a forward-pass check exercises every weight. */
    public static void write(Path dir, ModelConfig config, long seed, double std) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve(ModelConfig.FILE), config.toJson());
        Map<String, long[]> shapes = Checkpoint.expectedShapes(config);
        List<TensorSpec> specs = new ArrayList<>();
        shapes.forEach((name, shape) -> specs.add(new TensorSpec(name, Dtype.F32, shape)));
        SplittableRandom random = new SplittableRandom(seed);
        try (SafetensorsWriter w = SafetensorsWriter.create(dir.resolve(Checkpoint.WEIGHTS), specs, Map.of("format", "pt"))) {
            for (TensorSpec s : w.order()) {
                float[] v = new float[(int) TensorInfo.elementCount(s.shape())];
                boolean norm = s.name().endsWith("norm.weight");
                double unit = config.gemma() == null ? 1 : 0;
                for (int i = 0; i < v.length; i++) {
                    v[i] = norm ? (float) (unit + (std > 0.02 ? gaussian(random) * 0.2 : 0)) : (float) (gaussian(random) * std);
                }
                w.write(s.name(), v);
            }
        }
    }

    static double gaussian(SplittableRandom r) {
        double u1 = r.nextDouble();
        double u2 = r.nextDouble();
        return Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2);
    }
}
