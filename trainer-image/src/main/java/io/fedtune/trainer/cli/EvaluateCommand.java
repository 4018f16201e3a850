package io.fedtune.trainer.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.TaskDataset;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.eval.TaskData;
import io.fedtune.trainer.eval.TaskScore;
import io.fedtune.trainer.eval.TaskScorer;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.storage.StorageSession;
import io.fedtune.trainer.train.LoraParameters;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "evaluate", mixinStandardHelpOptions = true,
        description = {"Score a base model, with or without an adapter, on a JSONL set by its task; prints one JSON object:",
                "task, metric and score (the ranking metric), metrics (every metric of the task), meanLoss (per gold token), "
                        + "perplexity, tokens, examples, and the same by context length (byLength)."})
final class EvaluateCommand implements Callable<Integer> {
    @Mixin ModelOptions modelOptions;
    @Option(names = "--data", required = true, description = "JSONL, local or s3://") String data;
    @Option(names = "--format", defaultValue = "Text", description = "LanguageModeling's record format: Text, PromptCompletion, Chat or PromptCompletionChat") String format;
    @Option(names = "--task", defaultValue = "LanguageModeling", description = "LanguageModeling, Classification, MultipleChoice or Generation (default ${DEFAULT-VALUE})") EvalTask task;
    @Option(names = "--metric", description = "the metric printed as score (default: the task's)") EvalMetric metric;
    @Option(names = "--max-new-tokens", description = "Generation: the most tokens per answer (default " + TaskDataset.DEFAULT_MAX_NEW_TOKENS + ")") Integer maxNewTokens;
    @Option(names = "--max-seq-len", defaultValue = "256") int maxSeqLen;
    @Option(names = "--batch-size", defaultValue = "8") int batchSize;

    @Override
    public Integer call() {
        ObjectMapper json = new ObjectMapper();
        Environment env = Environment.system();
        try (StorageSession storage = env.session()) {
            EvalMetric ranking = metric != null ? metric : task.defaultMetric();
            if (!task.metrics().contains(ranking)) {
                throw new IllegalArgumentException(task + " reports " + task.metrics() + ", not " + ranking);
            }
            java.nio.file.Path dataFile = storage.fetch(data);
            try (BaseModel model = modelOptions.open(storage, env)) {
                DataFormat dataFormat = DataFormat.parse(format);
                TaskData set = TaskData.read(dataFile, task, dataFormat, maxNewTokens,
                        model.chatTemplate(task == EvalTask.LanguageModeling ? dataFormat : DataFormat.TEXT));
                LoraParameters params = modelOptions.adapter(storage, model);
                TaskScore score = new TaskScorer(model, maxSeqLen, batchSize).score(set, params);
                ObjectNode out = json.createObjectNode();
                out.put("task", task.name());
                out.put("metric", ranking.name());
                put(out, "score", score.metric(ranking));
                figures(out, score);
                ObjectNode byLength = out.putObject("byLength");
                for (Map.Entry<String, TaskScore> c : score.byLength().entrySet()) {
                    figures(byLength.putObject(c.getKey()), c.getValue());
                }
                System.out.println(out);
            }
            return 0;
        } catch (Exception e) {
            return Failure.of(e).report("evaluate");
        }
    }

    private static void figures(ObjectNode out, TaskScore score) {
        ObjectNode metrics = out.putObject("metrics");
        score.metrics().forEach((m, v) -> metrics.put(m.name(), v));
        put(out, "meanLoss", score.loss());
        put(out, "perplexity", score.perplexity());
        out.put("tokens", score.tokens());
        out.put("examples", score.examples());
    }

    private static void put(ObjectNode out, String name, Double value) {
        if (value == null) {
            out.putNull(name);
        } else {
            out.put(name, value);
        }
    }
}
