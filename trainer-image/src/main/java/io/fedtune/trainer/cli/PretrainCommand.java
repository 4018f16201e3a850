package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.pretrain.PretrainOptions;
import io.fedtune.trainer.pretrain.Pretraining;
import io.fedtune.trainer.storage.StorageSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "pretrain", mixinStandardHelpOptions = true,
        description = "Make a small Llama-architecture base model (config.json, model.safetensors, tokenizer.json) from a JSONL text corpus.")
final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--data", required = true, description = "JSONL corpus with {\"text\"} records (.gz allowed); local path or s3://bucket/key")
    String data;
    @Option(names = "--where", description = "keep only records whose JSON field equals a value, e.g. testament=old")
    Map<String, String> where = Map.of();
    @Option(names = "--out", required = true, description = "output directory (local) or s3:// prefix")
    String out;
    @Option(names = "--vocab", defaultValue = "2048", description = "tokenizer vocabulary size (default ${DEFAULT-VALUE})")
    int vocab;
    @Option(names = "--hidden", defaultValue = "128") int hidden;
    @Option(names = "--layers", defaultValue = "4") int layers;
    @Option(names = "--heads", defaultValue = "4") int heads;
    @Option(names = "--kv-heads", defaultValue = "2") int kvHeads;
    @Option(names = "--intermediate", defaultValue = "384") int intermediate;
    @Option(names = "--seq-len", defaultValue = "128") int seqLen;
    @Option(names = "--steps", defaultValue = "400") int steps;
    @Option(names = "--batch-size", defaultValue = "16") int batch;
    @Option(names = "--lr", defaultValue = "3e-3") double lr;
    @Option(names = "--seed", defaultValue = "0") long seed;
    @Option(names = "--architecture", defaultValue = "LlamaForCausalLM") String architecture;
    @Option(names = "--tie-embeddings", defaultValue = "true", negatable = true) boolean tie;

    @Override
    public Integer call() throws Exception {
        try (StorageSession storage = Environment.system().session()) {
            Path dataFile = storage.fetch(data);
            Dataset corpus = Dataset.read(dataFile, DataFormat.TEXT,
                    json -> where.entrySet().stream().allMatch(e -> e.getValue().equals(json.path(e.getKey()).asText())));
            PretrainOptions options = new PretrainOptions(vocab, hidden, layers, heads, kvHeads, intermediate, seqLen, steps,
                    batch, lr, seed, architecture, tie);
            Path local = storage.outputDirectory(out);
            Pretraining.Report report = new Pretraining(options, System.err).run(corpus.records(), local);
            Files.writeString(local.resolve("pretrain.json"),
                    new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(report) + "\n");
            storage.publish(local, out, StorageSession.files(local));
            System.out.println(new ObjectMapper().writeValueAsString(report));
            return 0;
        }
    }
}
