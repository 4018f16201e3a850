package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.storage.StorageSession;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LoraParameters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = "Evaluate a base model, with or without an adapter, on a JSONL set; prints one JSON object: meanLoss (per token), perplexity, tokens.")
final class EvaluateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--data", required = true, description = "JSONL, local or s3://") String data;
    @Option(names = "--format", defaultValue = "Text", description = "Text, PromptCompletion or Chat") String format;
    @Option(names = "--max-seq-len", defaultValue = "256") int maxSeqLen;
    @Option(names = "--batch-size", defaultValue = "8") int batchSize;

    @Override
    public Integer call() {
        ObjectMapper json = new ObjectMapper();
        Environment env = Environment.system();
        try (StorageSession storage = env.session();
             BaseModel model = modelOptions.open(storage, env)) {
            LoraParameters params = modelOptions.adapter(storage, model);
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
            return Failure.of(e).report("evaluate");
        }
    }
}
