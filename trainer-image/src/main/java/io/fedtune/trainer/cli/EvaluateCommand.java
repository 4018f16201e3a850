package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.storage.StorageSession;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LoraParameters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a base model, with or without an adapter, on a JSONL set; prints one JSON object: meanLoss (per token), perplexity, tokens.")
final class EvaluateCommand implements Callable<Integer> {
    @Option(names = "--base", required = true, description = "base checkpoint directory or s3:// prefix") String base;
    @Option(names = "--adapter", description = "adapter directory or s3:// prefix; without it the base alone") String adapter;
    @Option(names = "--data", required = true, description = "JSONL, local or s3://") String data;
    @Option(names = "--format", defaultValue = "Text", description = "Text, PromptCompletion or Chat") String format;
    @Option(names = "--max-seq-len", defaultValue = "256") int maxSeqLen;
    @Option(names = "--batch-size", defaultValue = "8") int batchSize;
    @Option(names = "--precision", defaultValue = "Auto", description = "Auto (bf16 on GPU, fp32 on CPU), FP32 or BF16") String precision;

    @Override
    public Integer call() {
        ObjectMapper json = new ObjectMapper();
        Environment env = Environment.system();
        try (StorageSession storage = env.session();
             BaseModel model = BaseModel.open(storage.checkpoint(base, null).dir(), Placement.of(precision, env.device()))) {
            LoraParameters params = adapter == null ? null
                    : LoraParameters.from(Adapter.read(storage.fetchDirectory(adapter)), model.config());
            List<TokenSequence> sequences = model.chunker(maxSeqLen)
                    .sequences(Dataset.read(storage.fetch(data), DataFormat.parse(format)).records());
            Evaluation.Result r = Evaluation.run(model.model(), params, sequences, batchSize);
            ObjectNode out = json.createObjectNode();
            out.put("meanLoss", r.meanLoss());
            out.put("perplexity", r.perplexity());
            out.put("tokens", r.tokens());
            out.put("sequences", sequences.size());
            System.out.println(out);
            return 0;
        } catch (Exception e) {
            Failure f = Failure.of(e);
            ObjectNode out = json.createObjectNode();
            out.put("outcome", "Failed");
            out.put("reason", f.reason().name());
            out.put("message", f.message());
            System.out.println(out);
            System.err.println("evaluate failed: " + f.reason() + ": " + f.message());
            return 1;
        }
    }
}
