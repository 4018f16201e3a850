package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;
import io.fabric8.generator.annotation.ValidationRule;

/**
 * Held-out data with the task it is scored by. The rules' metric lists are {@link EvalTask#metrics()} written out (CEL
 * needs constants); a test in the operator checks that they agree.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@ValidationRule(value = TaskDataset.METRIC_OF_TASK, fieldPath = ".metric", message = TaskDataset.METRIC_OF_TASK_MESSAGE)
@ValidationRule(value = TaskDataset.MAX_NEW_TOKENS_FOR_GENERATION, fieldPath = ".maxNewTokens",
        message = TaskDataset.MAX_NEW_TOKENS_MESSAGE)
public class TaskDataset extends DatasetRef {

    /** The metric, when set, is one of its task's (the task defaults to LanguageModeling). */
    public static final String METRIC_OF_TASK = "!has(self.metric) || ((!has(self.task) || self.task == 'LanguageModeling') "
            + "? self.metric in ['Loss', 'Perplexity'] : self.task == 'Generation' ? self.metric in ['ExactMatch', 'RougeL', 'Loss'] "
            + ": self.metric in ['Accuracy', 'AccuracyNorm', 'Loss'])";
    public static final String METRIC_OF_TASK_MESSAGE = "metric must be one of its task's metrics: Loss or Perplexity "
            + "(LanguageModeling); Accuracy, AccuracyNorm or Loss (Classification, MultipleChoice); ExactMatch, RougeL or Loss "
            + "(Generation)";
    public static final String MAX_NEW_TOKENS_FOR_GENERATION = "!has(self.maxNewTokens) || (has(self.task) && self.task == 'Generation')";
    public static final String MAX_NEW_TOKENS_MESSAGE = "maxNewTokens applies to task Generation only: remove it, or set task: Generation";

    /** Used when a Generation set does not set maxNewTokens. */
    public static final int DEFAULT_MAX_NEW_TOKENS = 32;

    @Default("LanguageModeling")
    @JsonPropertyDescription("What the set measures: LanguageModeling (loss and perplexity on records of the set's format), "
            + "Classification ({\"prompt\",\"label\"}; accuracy over the set's labels), MultipleChoice ({\"prompt\",\"choices\","
            + "\"answer\"}; accuracy, raw and length-normalised) or Generation ({\"prompt\",\"completion\"} or {\"prompt\","
            + "\"references\"}; exact match and ROUGE-L of greedy answers, which end at EOS, a newline or maxNewTokens). Every task also reports the loss of the gold answer. "
            + "format applies to LanguageModeling only. Default LanguageModeling.")
    public EvalTask task = EvalTask.LanguageModeling;

    @JsonPropertyDescription("The metric that ranks adapters on this set, one of the task's: Loss or Perplexity "
            + "(LanguageModeling); Accuracy, AccuracyNorm or Loss (Classification, MultipleChoice); ExactMatch, RougeL or Loss "
            + "(Generation). Absent: Loss, Accuracy, AccuracyNorm and RougeL respectively.")
    public EvalMetric metric;

    @Min(1)
    @Max(512)
    @JsonPropertyDescription("Generation only: the most tokens generated per prompt (1..512). Default 32.")
    public Integer maxNewTokens;

    /** The metric that ranks adapters on this set. */
    public EvalMetric rankingMetric() {
        EvalTask t = task == null ? EvalTask.LanguageModeling : task;
        return metric != null ? metric : t.defaultMetric();
    }

    public TaskDataset() {
    }

    public TaskDataset(String uri, DataFormat format) {
        super(uri, format);
    }
}
