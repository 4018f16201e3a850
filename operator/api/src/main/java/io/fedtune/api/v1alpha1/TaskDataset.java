package io.fedtune.api.v1alpha1;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.generator.annotation.Default;
import io.fabric8.generator.annotation.Max;
import io.fabric8.generator.annotation.Min;

/** Held-out data with the task it is scored by. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class TaskDataset extends DatasetRef {

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
