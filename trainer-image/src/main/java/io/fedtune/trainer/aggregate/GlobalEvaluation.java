package io.fedtune.trainer.aggregate;

import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.trainer.adapter.Adapter;
import io.fedtune.trainer.data.DataFormat;
import io.fedtune.trainer.eval.LengthClass;
import io.fedtune.trainer.eval.TaskData;
import io.fedtune.trainer.eval.TaskScore;
import io.fedtune.trainer.eval.TaskScorer;
import io.fedtune.trainer.model.BaseModel;
import io.fedtune.trainer.model.Placement;
import io.fedtune.trainer.train.LoraParameters;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Base model + new global adapter on each named eval set, scored by the set's task and also per context-length class
 * ({@link LengthClass}), and whether the primary set's ranking metric regressed against the best earlier round.
 */
public final class GlobalEvaluation {
    private static final int BATCH = 8;

    /**
     * One eval set on local disk.
     *
     * @param format       the API's DataFormat name (Text, PromptCompletion, Chat, PromptCompletionChat); LanguageModeling only
     * @param metric       the ranking metric, or null for the task's default
     * @param maxNewTokens Generation's budget, or null for the default
     */
    public record EvalSet(String name, Path file, String format, EvalTask task, EvalMetric metric, Integer maxNewTokens) {
        public EvalSet {
            task = task == null ? EvalTask.LanguageModeling : task;
            if (metric != null && !task.metrics().contains(metric)) {
                throw new IllegalArgumentException("eval set " + name + ": " + task + " reports " + task.metrics() + ", not "
                        + metric);
            }
        }

        /** A LanguageModeling set. */
        public EvalSet(String name, Path file, String format) {
            this(name, file, format, EvalTask.LanguageModeling, null, null);
        }

        public EvalMetric rankingMetric() {
            return metric != null ? metric : task.defaultMetric();
        }
    }

    private GlobalEvaluation() {
    }

    /**
     * @param placement     as training's under Auto (bf16 on a GPU, fp32 on the CPU; see {@link Placement})
     * @param bestEvalScore the best earlier value of the primary set's ranking metric, or null
     */
    public static RoundEvaluation run(Path checkpointDir, Placement placement, Path adapterDir, List<EvalSet> sets,
            int maxSequenceLength, Double bestEvalScore) throws IOException {
        Map<String, TaskScore> results = new LinkedHashMap<>();
        try (BaseModel base = BaseModel.open(checkpointDir, placement)) {
            LoraParameters adapter = LoraParameters.from(Adapter.read(adapterDir), base.config());
            // every set is read before the weights load: bad data fails first
            Map<String, TaskData> data = new LinkedHashMap<>();
            for (EvalSet set : sets) {
                DataFormat format = set.format() == null ? DataFormat.TEXT : DataFormat.parse(set.format());
                boolean lm = set.task() == null || set.task() == io.fedtune.api.v1alpha1.EvalTask.LanguageModeling;
                data.put(set.name(), TaskData.read(set.file(), set.task(), format, set.maxNewTokens(),
                        base.chatTemplate(lm ? format : DataFormat.TEXT)));
            }
            TaskScorer scorer = new TaskScorer(base, maxSequenceLength, BATCH);
            for (Map.Entry<String, TaskData> e : data.entrySet()) {
                results.put(e.getKey(), scorer.score(e.getValue(), adapter));
            }
        }
        if (results.isEmpty()) {
            return new RoundEvaluation(null, null, null, results, bestEvalScore, null);
        }
        EvalMetric metric = sets.get(0).rankingMetric();
        TaskScore primary = results.values().iterator().next();
        Double score = primary.metric(metric);
        Boolean regressed = score == null || bestEvalScore == null ? null : metric.worseBeyond(score, bestEvalScore, 0);
        return new RoundEvaluation(metric.name(), score, primary.loss(), results, bestEvalScore, regressed);
    }

    static String lengthClass(int length, int maxSequenceLength) {
        return LengthClass.of(length, maxSequenceLength);
    }
}
