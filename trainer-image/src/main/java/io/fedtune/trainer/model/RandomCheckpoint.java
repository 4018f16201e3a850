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

    private RandomCheckpoint() {
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
