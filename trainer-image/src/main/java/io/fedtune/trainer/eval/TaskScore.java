package io.fedtune.trainer.eval;

import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;

import java.util.Map;

/**
 * One eval set's result for its task.
 *
 * @param loss       mean negative log-likelihood per gold token, or null when no token was scored
 * @param perplexity exp(loss)
 * @param tokens     gold tokens scored
 * @param examples   records scored (token sequences for LanguageModeling)
 * @param metrics    every metric of the task, by metric
 * @param byLength   the same by context-length class ({@link LengthClass}); null inside a class
 */
public record TaskScore(EvalTask task, Double loss, Double perplexity, long tokens, long examples,
                        Map<EvalMetric, Double> metrics, Map<String, TaskScore> byLength) {

    /** The metric's value, or null when the task does not report it or nothing was scored. */
    public Double metric(EvalMetric metric) {
        return metrics == null ? null : metrics.get(metric);
    }
}
