package io.fedtune.api.v1alpha1;

/** A figure an eval set reports, and which way is better. */
public enum EvalMetric {
    /** Mean negative log-likelihood per gold token. */
    Loss(false),
    /** exp(Loss). */
    Perplexity(false),
    /** Fraction of records whose gold answer has the highest summed log-likelihood among the choices. */
    Accuracy(true),
    /** The same with each choice's log-likelihood divided by its length in characters (lm-eval-harness's acc_norm). */
    AccuracyNorm(true),
    /** Fraction of records whose greedy answer equals a reference (case folded, punctuation removed, whitespace collapsed). */
    ExactMatch(true),
    /** Mean ROUGE-L F1 (longest common subsequence of words) against the best-matching reference. */
    RougeL(true);

    private final boolean higherIsBetter;

    EvalMetric(boolean higherIsBetter) {
        this.higherIsBetter = higherIsBetter;
    }

    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    /** Whether {@code a} is better than {@code b} by more than {@code margin} (in the metric's units). */
    public boolean better(double a, double b, double margin) {
        return higherIsBetter ? a > b + margin : a < b - margin;
    }

    /** Whether {@code a} is worse than {@code b} by more than {@code tolerance}, relative to {@code b}'s magnitude. */
    public boolean worseBeyond(double a, double b, double tolerance) {
        double allowed = Math.abs(b) * tolerance;
        return higherIsBetter ? a < b - allowed : a > b + allowed;
    }

    /** Null-safe parse of a metric name as results carry it; null for an unknown name. */
    public static EvalMetric named(String name) {
        for (EvalMetric m : values()) {
            if (m.name().equals(name)) {
                return m;
            }
        }
        return null;
    }
}
