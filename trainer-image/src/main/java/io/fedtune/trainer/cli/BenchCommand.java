package io.fedtune.trainer.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.adapter.AdapterConfig;
import io.fedtune.trainer.generate.DecodeThroughput;
import io.fedtune.trainer.model.Checkpoint;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.ModelConfig;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.model.RandomCheckpoint;
import io.fedtune.trainer.train.LoraParameters;
import io.fedtune.trainer.train.Throughput;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark LoRA training: tokens/s, peak RSS and model FLOP utilisation against a matmul ceiling measured in the same run.",
                "With --decode, greedy generation instead: new tokens/s with the KV cache and by recomputing every step, in one run.",
                "Not a test. Threads: FEDTUNE_THREADS (default 1). On a GPU it runs in bf16."})
final class BenchCommand implements Callable<Integer> {
    @Option(names = "--base", description = "checkpoint directory to benchmark (e.g. trainer-image/base-model)") Path base;
    @Option(names = "--random", description = "a random-weight checkpoint of a known shape instead: 100m (a ~100M Llama), "
            + "llama-3.2-1b, qwen3-0.6b, gemma-3-1b or phi-4-mini") String random;
    @Option(names = "--layers", description = "with --random: keep only the first N layers of the shape") Integer layers;
    @Option(names = "--vocab", description = "with --random: this vocabulary size instead of the shape's") Integer vocab;
    @Option(names = "--write-random", description = "with --random: write that checkpoint into DIR and exit "
            + "(so another trainer, e.g. bench/peer_bench.py, can train the same weights)") Path writeRandom;
    @Option(names = "--batch-size", defaultValue = "8") int batch;
    @Option(names = "--seq-len", defaultValue = "128") int seqLen;
    @Option(names = "--steps", defaultValue = "10") int steps;
    @Option(names = "--rank", defaultValue = "8") int rank;
    @Option(names = "--decode", description = "benchmark generation (with an adapter of --rank) instead of training") boolean decode;
    @Option(names = "--prompt-len", defaultValue = "16", description = "with --decode: prompt tokens") int promptLen;
    @Option(names = "--new-tokens", defaultValue = "64", description = "with --decode: tokens generated per prompt") int newTokens;
    @Option(names = "--prompts", defaultValue = "3", description = "with --decode: measured prompts per mode") int prompts;
    @Option(names = "--precision", defaultValue = "Auto", description = "Auto (bf16 on GPU, fp32 on CPU), FP32 or BF16") String precision;

    @Override
    public Integer call() throws Exception {
        Path dir = base;
        Path tmp = null;
        if (dir == null || writeRandom != null) {
            if (random == null || !RandomCheckpoint.SHAPES.containsKey(random)) {
                throw new IllegalArgumentException("give --base DIR or --random NAME, NAME one of "
                        + new java.util.TreeSet<>(RandomCheckpoint.SHAPES.keySet()) + (random == null ? "" : ", not " + random));
            }
            ModelConfig c = RandomCheckpoint.SHAPES.get(random);
            c = layers == null ? c : RandomCheckpoint.withLayers(c, layers);
            c = vocab == null ? c : RandomCheckpoint.withVocab(c, vocab);
            if (writeRandom != null) {
                RandomCheckpoint.write(writeRandom, c, 0);
                ObjectNode out = new ObjectMapper().createObjectNode();
                out.put("written", writeRandom.toString());
                out.put("architecture", c.architecture());
                out.put("layers", c.layers());
                out.put("parameters", c.parameterCount());
                System.out.println(out);
                return 0;
            }
            tmp = Files.createTempDirectory("fedtune-bench-");
            dir = tmp;
            RandomCheckpoint.write(dir, c, 0);
        }
        try {
            Checkpoint cp = Checkpoint.open(dir);
            Placement placement = Placement.of(precision, Environment.system().device());
            AdapterConfig lora = new AdapterConfig(rank, 2.0 * rank, 0.0, cp.config().modules(), "bench");
            ObjectNode out;
            try (LlamaModel model = LlamaModel.load(cp, placement.device(), placement.dataType())) {
                out = decode ? decode(model, lora) : train(model, lora);
            }
            out.put("model", base != null ? base.toString() : "random-" + random);
            out.put("architecture", cp.config().architecture());
            out.put("layers", cp.config().layers());
            out.put("parameters", cp.config().parameterCount());
            out.put("device", placement.device().toString());
            out.put("dtype", placement.dataType().toString());
            out.put("threads", System.getProperty("ai.djl.pytorch.num_threads"));
            System.out.println(out);
            return 0;
        } finally {
            if (tmp != null) {
                try (var s = Files.walk(tmp)) {
                    s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    private ObjectNode train(LlamaModel model, AdapterConfig lora) {
        Throughput.Result r = Throughput.measure(model, lora, batch, seqLen, steps, 0);
        ObjectNode out = new ObjectMapper().valueToTree(r);
        out.put("batch", batch);
        out.put("seqLen", seqLen);
        out.put("peakRssMiB", r.peakRssBytes() / (1024 * 1024));
        return out;
    }

    private ObjectNode decode(LlamaModel model, AdapterConfig lora) {
        try (NDManager arrays = model.manager().newSubManager()) {
            DecodeThroughput.Result r = DecodeThroughput.measure(model,
                    LoraParameters.initial(lora, model.config(), 0).arrays(arrays, false, false), promptLen, newTokens, prompts);
            ObjectNode out = new ObjectMapper().valueToTree(r);
            out.put("speedup", r.speedup());
            out.put("adapterRank", rank);
            return out;
        }
    }
}
