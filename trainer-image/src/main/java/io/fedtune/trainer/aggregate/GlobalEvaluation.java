package io.fedtune.trainer.aggregate;

import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.data.Chunker;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.data.Dataset;
import io.fedtune.trainer.data.TokenSequence;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.LlamaModel;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.train.Evaluation;
import io.fedtune.trainer.train.LoraParameters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Loss and perplexity of base model + new global adapter on each named eval set, also per context-length class
 * (short: up to a quarter of the max sequence length; medium: up to three quarters; long: beyond), and whether the
 * primary set's loss regressed against the best earlier round.
 */
public final class GlobalEvaluation {
    private static final int BATCH = 8;

    /** One eval set on local disk; format is the API's DataFormat name (Text, PromptCompletion, Chat). */
    public record EvalSet(String name, Path file, String format) {
    }

    private GlobalEvaluation() {
    }

    /** @param placement as training's under Auto (bf16 on a GPU, fp32 on the CPU; see {@link Placement}) */
    public static RoundEvaluation run(Path checkpointDir, Placement placement, Path adapterDir, List<EvalSet> sets,
            int maxSequenceLength, Double bestEvalLoss) throws IOException {
        Map<String, RoundEvaluation.SetResult> results = new LinkedHashMap<>();
        try (BaseModel base = BaseModel.open(checkpointDir, placement)) {
            LoraParameters adapter = LoraParameters.from(Adapter.read(adapterDir), base.config());
            Chunker chunker = base.chunker(maxSequenceLength);
            Map<String, List<TokenSequence>> sequencesBySet = new LinkedHashMap<>();
            for (EvalSet set : sets) {
                sequencesBySet.put(set.name(), chunker.sequences(
                        Dataset.read(set.file(), DataFormat.parse(set.format())).records()));
            }
            for (Map.Entry<String, List<TokenSequence>> e : sequencesBySet.entrySet()) {
                results.put(e.getKey(), evaluate(base.model(), adapter, e.getValue(), maxSequenceLength));
            }
        }
        Double primary = results.isEmpty() ? null : results.values().iterator().next().loss();
        Boolean regressed = primary == null || bestEvalLoss == null ? null : primary > bestEvalLoss;
        return new RoundEvaluation(primary, results, bestEvalLoss, regressed);
    }

    /** Each length class is evaluated on its own; the set's loss is their token-weighted mean, so nothing runs twice. */
    private static RoundEvaluation.SetResult evaluate(LlamaModel model, LoraParameters adapter, List<TokenSequence> all,
            int maxSequenceLength) {
        Map<String, List<TokenSequence>> byClass = new LinkedHashMap<>();
        for (TokenSequence s : all) {
            byClass.computeIfAbsent(lengthClass(s.length(), maxSequenceLength), k -> new ArrayList<>()).add(s);
        }
        Map<String, RoundEvaluation.SetResult> classes = new LinkedHashMap<>();
        double weighted = 0;
        long tokens = 0;
        for (Map.Entry<String, List<TokenSequence>> e : byClass.entrySet()) {
            Evaluation.Result r = Evaluation.run(model, adapter, e.getValue(), BATCH);
            if (r.tokens() == 0) {
                continue;
            }
            classes.put(e.getKey(), new RoundEvaluation.SetResult(r.meanLoss(), r.perplexity(), r.tokens(), null));
            weighted += r.meanLoss() * r.tokens();
            tokens += r.tokens();
        }
        double loss = tokens == 0 ? Double.NaN : weighted / tokens;
        return new RoundEvaluation.SetResult(loss, Math.exp(loss), tokens, classes);
    }

    static String lengthClass(int length, int maxSequenceLength) {
        if (length * 4 <= maxSequenceLength) {
            return "short";
        }
        return length * 4 <= 3 * maxSequenceLength ? "medium" : "long";
    }
}
