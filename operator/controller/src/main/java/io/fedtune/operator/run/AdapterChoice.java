package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.EvalMetric;
import io.fedtune.api.v1alpha1.EvaluationSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import java.util.Objects;

/**
 * Which global adapter the next round starts from and which is the run's best, from the primary metric
 * ({@link AdapterRef#evalMetric}, in its direction: Loss down, Accuracy or RougeL up): the best is the best score so
 * far (without any score, as with no eval sets and no shard eval data, the latest); a round worse than the best beyond
 * {@code regressionTolerance} (relative to the best's magnitude) rolls back to the best when {@code rollbackOnRegression};
 * the early-stopping count grows on each round that does not improve on the best by more than {@code minDelta} (in the
 * metric's units).
 *
 * <p>This is the one place the regression rule is applied. The aggregator's own verdict ({@code regressed}) counts only
 * for a round that carries no score: with a score the operator judges, with the run's tolerance, by the same rule for
 * every image.
 *
 * @param latest                   the adapter the next round starts from
 * @param best                     the run's best adapter
 * @param roundsWithoutImprovement for early stopping
 * @param rolledBack               whether {@code latest} is the best instead of the new one
 */
record AdapterChoice(AdapterRef latest, AdapterRef best, int roundsWithoutImprovement, boolean rolledBack) {

    /** @param regressed the aggregator's own verdict (null when it gave none); used only when the adapter has no score */
    static AdapterChoice of(EvaluationSpec evaluation, FederatedRunStatus before, AdapterRef adapter, Boolean regressed) {
        AdapterRef best = before.bestAdapter;
        Double score = score(adapter);
        Double bestScore = best == null ? null : score(best);
        EvalMetric metric = EvalMetric.named(metric(adapter));
        // a best ranked by another metric (spec.evaluation.datasets changed mid-run: they are not immutable) is not
        // compared with this round's score, which would mix apples and oranges: it counts as unranked, like one with no score
        boolean comparable = score != null && bestScore != null && metric != null && Objects.equals(metric(adapter), metric(best));
        boolean bestUnranked = best != null && (bestScore == null || (score != null && !comparable));
        boolean worse = comparable ? metric.worseBeyond(score, bestScore, evaluation.regressionTolerance)
                : score == null && bestScore != null && Boolean.TRUE.equals(regressed);
        double minDelta = evaluation.earlyStopping != null ? evaluation.earlyStopping.minDelta : 0.0;
        boolean improved = best == null || bestUnranked || (comparable && metric.better(score, bestScore, minDelta));
        int withoutImprovement = improved ? 0 : (before.roundsWithoutImprovement == null ? 0 : before.roundsWithoutImprovement) + 1;
        // with no score on either side nothing ranks them: the later adapter, built on every earlier round, is the best
        AdapterRef newBest = best == null || bestUnranked || (comparable && metric.better(score, bestScore, 0)) ? adapter : best;
        boolean rollBack = worse && Boolean.TRUE.equals(evaluation.rollbackOnRegression);
        return new AdapterChoice(rollBack ? best : adapter, newBest, withoutImprovement, rollBack);
    }

    /** The adapter's primary score; an adapter an older operator recorded (no evalMetric) was ranked by its eval loss. */
    static Double score(AdapterRef adapter) {
        return adapter.evalScore != null ? adapter.evalScore : adapter.evalMetric == null ? adapter.evalLoss : null;
    }

    /** The name of the metric {@link #score} is in, or null without a score. */
    static String metric(AdapterRef adapter) {
        return adapter.evalScore != null ? adapter.evalMetric : adapter.evalMetric == null && adapter.evalLoss != null
                ? EvalMetric.Loss.name() : null;
    }

    void applyTo(FederatedRunStatus status) {
        status.latestAdapter = latest;
        status.bestAdapter = best;
        status.roundsWithoutImprovement = roundsWithoutImprovement;
    }
}
