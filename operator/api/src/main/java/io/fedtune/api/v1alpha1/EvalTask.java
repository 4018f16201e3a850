package io.fedtune.api.v1alpha1;

import java.util.List;

/**
 * What an eval set measures, and so the shape of its records and the metrics it reports. Every task also reports the
 * loss per token of its gold answer (the text for LanguageModeling, the label or the correct choice, the reference).
 */
public enum EvalTask {
    /** Records in the set's format; loss and perplexity. */
    LanguageModeling(EvalMetric.Loss, List.of(EvalMetric.Loss, EvalMetric.Perplexity)),
    /** {"prompt", "label"}: the label with the highest log-likelihood among all labels of the set. */
    Classification(EvalMetric.Accuracy, List.of(EvalMetric.Accuracy, EvalMetric.AccuracyNorm, EvalMetric.Loss)),
    /** {"prompt", "choices": [...], "answer": index}: the choice with the highest log-likelihood. */
    MultipleChoice(EvalMetric.AccuracyNorm, List.of(EvalMetric.Accuracy, EvalMetric.AccuracyNorm, EvalMetric.Loss)),
    /** {"prompt", "completion"} or {"prompt", "references": [...]}: greedy decoding scored against the references. */
    Generation(EvalMetric.RougeL, List.of(EvalMetric.ExactMatch, EvalMetric.RougeL, EvalMetric.Loss));

    private final EvalMetric defaultMetric;
    private final List<EvalMetric> metrics;

    EvalTask(EvalMetric defaultMetric, List<EvalMetric> metrics) {
        this.defaultMetric = defaultMetric;
        this.metrics = metrics;
    }

    /** The metric that ranks adapters when the set does not name one. */
    public EvalMetric defaultMetric() {
        return defaultMetric;
    }

    /** Every metric a set of this task reports. */
    public List<EvalMetric> metrics() {
        return metrics;
    }
}
