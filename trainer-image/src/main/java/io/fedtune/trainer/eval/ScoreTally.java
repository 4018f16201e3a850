package io.fedtune.trainer.eval;

import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvalTask;

import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Sums of one set's examples by context-length class, turned into the set's and each class's {@link TaskScore}: the loss
 * is token-weighted, every other metric the mean over examples.
 */
final class ScoreTally {
    private final EvalTask task;
    private final Map<String, Part> parts = new TreeMap<>((a, b) -> a.equals(b) ? 0
            : LengthClass.order(a) != LengthClass.order(b) ? Integer.compare(LengthClass.order(a), LengthClass.order(b))
            : a.compareTo(b));

    ScoreTally(EvalTask task) {
        this.task = task;
    }

    private static final class Part {
        double nll;
        long tokens;
        long examples;
        final Map<EvalMetric, Double> sums = new EnumMap<>(EvalMetric.class);

        void add(Part p) {
            nll += p.nll;
            tokens += p.tokens;
            examples += p.examples;
            p.sums.forEach((m, v) -> sums.merge(m, v, Double::sum));
        }
    }

    /** One record: its gold answer's summed NLL and tokens, and its value of each per-example metric (0 or 1, ROUGE-L). */
    void add(String lengthClass, double nll, long tokens, Map<EvalMetric, Double> values) {
        Part p = parts.computeIfAbsent(lengthClass, k -> new Part());
        p.nll += nll;
        p.tokens += tokens;
        p.examples++;
        values.forEach((m, v) -> p.sums.merge(m, v, Double::sum));
    }

    /** Several LanguageModeling sequences at once. */
    void addSequences(String lengthClass, double nll, long tokens, int sequences) {
        Part p = parts.computeIfAbsent(lengthClass, k -> new Part());
        p.nll += nll;
        p.tokens += tokens;
        p.examples += sequences;
    }

    TaskScore build() {
        Part all = new Part();
        Map<String, TaskScore> byLength = new LinkedHashMap<>();
        parts.forEach((c, p) -> {
            all.add(p);
            byLength.put(c, score(p, null));
        });
        return score(all, byLength);
    }

    private TaskScore score(Part p, Map<String, TaskScore> byLength) {
        Double loss = p.tokens == 0 ? null : p.nll / p.tokens;
        Double perplexity = loss == null ? null : Math.exp(loss);
        Map<EvalMetric, Double> metrics = new EnumMap<>(EvalMetric.class);
        for (EvalMetric m : task.metrics()) {
            Double v = switch (m) {
                case Loss -> loss;
                case Perplexity -> perplexity;
                default -> p.examples == 0 ? null : p.sums.getOrDefault(m, 0.0) / p.examples;
            };
            if (v != null) {
                metrics.put(m, v);
            }
        }
        return new TaskScore(task, loss, perplexity, p.tokens, p.examples, metrics, byLength);
    }
}
