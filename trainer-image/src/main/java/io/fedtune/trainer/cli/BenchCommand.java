package io.fedtune.trainer.cli;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.api.v1alpha1.BaseQuantization;
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

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Benchmark LoRA training: tokens/s, peak RSS and model FLOP utilisation against a matmul ceiling measured in the same run.",
                "With --quantization None,Int8,Int4 each setting runs in a JVM of its own (peak RSS is per process) and a table compares them.",
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
    @Option(names = "--quantization", split = ",", defaultValue = "None", description = "base quantizations to measure, "
            + "comma-separated, of None, Int8, Int4 and None+recompute (the unquantized base with layer-wise recomputation); "
            + "more than one: one child JVM each, then a side-by-side table (default ${DEFAULT-VALUE})") List<String> quantization;
    @Option(names = "--decode", description = "benchmark generation (with an adapter of --rank) instead of training") boolean decode;
    @Option(names = "--prompt-len", defaultValue = "16", description = "with --decode: prompt tokens") int promptLen;
    @Option(names = "--new-tokens", defaultValue = "64", description = "with --decode: tokens generated per prompt") int newTokens;
    @Option(names = "--prompts", defaultValue = "3", description = "with --decode: measured prompts per mode") int prompts;
    @Option(names = "--precision", defaultValue = "Auto", description = "Auto (bf16 on GPU, fp32 on CPU), FP32 or BF16") String precision;

    /** A setting of the quantization list: the base's quantization and whether layers are recomputed. */
    record Setting(String label, BaseQuantization quantization, boolean recompute) {
        static Setting parse(String s) {
            String[] parts = s.trim().split("\\+");
            BaseQuantization q;
            try {
                q = BaseQuantization.valueOf(parts[0]);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--quantization " + s + ": not None, Int8, Int4 or None+recompute");
            }
            if (parts.length > 2 || (parts.length == 2 && !parts[1].equals("recompute"))) {
                throw new IllegalArgumentException("--quantization " + s + ": not None, Int8, Int4 or None+recompute");
            }
            return new Setting(s.trim(), q, parts.length == 2 || q != BaseQuantization.None);
        }
    }

    @Override
    public Integer call() throws Exception {
        List<Setting> settings = quantization.stream().map(Setting::parse).toList();
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
            if (settings.size() > 1) {
                return sideBySide(dir, settings);
            }
            Setting setting = settings.get(0);
            Checkpoint cp = Checkpoint.open(dir);
            Placement placement = Placement.of(precision, Environment.system().device()).quantized(setting.quantization());
            AdapterConfig lora = new AdapterConfig(rank, 2.0 * rank, 0.0, cp.config().modules(), "bench");
            ObjectNode out;
            try (LlamaModel model = LlamaModel.load(cp, placement.device(), placement.dataType(), placement.quantization())) {
                out = decode ? decode(model, lora) : train(model, lora, setting.recompute());
                out.put("baseWeightsMiB", model.baseBytes() / (1024 * 1024));
            }
            out.put("setting", setting.label());
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

    /**
     * Each setting in a child JVM of its own (VmHWM is the process's high-water mark), on the checkpoint written
     * once here; the same java binary, JVM options and class path as this process.
     */
    private int sideBySide(Path dir, List<Setting> settings) throws IOException, InterruptedException {
        List<JsonNode> results = new ArrayList<>();
        ObjectMapper json = new ObjectMapper();
        for (Setting s : settings) {
            List<String> cmd = new ArrayList<>();
            cmd.add(ProcessHandle.current().info().command().orElse("java"));
            cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
            cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), FedtuneTrainer.class.getName(), "bench",
                    "--base", dir.toString(), "--quantization", s.label(), "--batch-size", String.valueOf(batch),
                    "--seq-len", String.valueOf(seqLen), "--steps", String.valueOf(steps), "--rank", String.valueOf(rank),
                    "--precision", precision));
            if (decode) {
                cmd.addAll(List.of("--decode", "--prompt-len", String.valueOf(promptLen), "--new-tokens",
                        String.valueOf(newTokens), "--prompts", String.valueOf(prompts)));
            }
            Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String last = null;
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (line.startsWith("{")) {
                        last = line;
                    }
                }
            }
            int rc = p.waitFor();
            if (rc != 0 || last == null) {
                throw new IllegalStateException("bench --quantization " + s.label() + " exited " + rc + " without a result");
            }
            ObjectNode node = (ObjectNode) json.readTree(last);
            node.put("model", base != null ? base.toString() : "random-" + random);
            System.out.println(node);
            results.add(node);
        }
        System.out.println(table(results));
        return 0;
    }

    /**
     * Markdown rows with ratios to the first setting. MFU is tokens/s against the matmul ceiling each child measured
     * itself, so its ratio stays fair when the machine's load changes between children; it counts useful FLOPs only
     * (recomputation's extra forward pass is a cost, not work).
     */
    static String table(List<JsonNode> results) {
        JsonNode ref = results.get(0);
        boolean dec = ref.has("cachedTokensPerSecond");
        StringBuilder t = new StringBuilder();
        t.append("| setting | base weights | peak RSS | ").append(dec ? "cached new tokens/s" : "tokens/s")
                .append(dec ? "" : " | MFU").append(" | first loss | last loss |\n|---|---|---|---|").append(dec ? "" : "---|")
                .append("---|---|\n");
        String speed = dec ? "cachedTokensPerSecond" : "tokensPerSecond";
        for (JsonNode r : results) {
            t.append(String.format(Locale.ROOT, "| %s | %,d MiB (%.2fx) | %,d MiB (%.2fx) | %.2f (%.2fx) |",
                    r.path("setting").asText(),
                    r.path("baseWeightsMiB").asLong(), ratio(r, ref, "baseWeightsMiB"),
                    r.path("peakRssMiB").asLong(), ratio(r, ref, "peakRssMiB"),
                    r.path(speed).asDouble(), ratio(r, ref, speed)));
            if (!dec) {
                t.append(String.format(Locale.ROOT, " %.2f (%.2fx) |", r.path("mfu").asDouble(), ratio(r, ref, "mfu")));
            }
            t.append(String.format(Locale.ROOT, " %s | %s |%n", loss(r, "firstLoss"), loss(r, "lastLoss")));
        }
        return t.toString();
    }

    private static double ratio(JsonNode r, JsonNode ref, String field) {
        double d = ref.path(field).asDouble();
        return d == 0 ? Double.NaN : r.path(field).asDouble() / d;
    }

    private static String loss(JsonNode r, String field) {
        return r.has(field) ? String.format(Locale.ROOT, "%.4f", r.path(field).asDouble()) : "-";
    }

    private ObjectNode train(LlamaModel model, AdapterConfig lora, boolean recompute) {
        Throughput.Result r = Throughput.measure(model, lora, batch, seqLen, steps, 0, recompute);
        ObjectNode out = new ObjectMapper().valueToTree(r);
        out.put("batch", batch);
        out.put("seqLen", seqLen);
        out.put("recomputeLayers", recompute || model.quantization() != BaseQuantization.None);
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
            out.put("peakRssMiB", Throughput.peakRss() / (1024 * 1024));
            return out;
        }
    }
}
