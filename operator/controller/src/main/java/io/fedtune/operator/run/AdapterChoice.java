package io.fedtune.operator.run;

import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.EvaluationSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;

/**
 * Which global adapter the next round starts from and which is the run's best, from the primary eval loss: the best
 * is the lowest loss so far (without any loss, as with no eval sets and no shard eval data, the latest); a round that regresses beyond {@code regressionTolerance} (or that the aggregator marks as
 * regressed) rolls back to the best when {@code rollbackOnRegression}; the early-stopping count grows on each round
 * that does not improve on the best by more than {@code minDelta}.
 *
 * @param latest                   the adapter the next round starts from
 * @param best                     the run's best adapter
 * @param roundsWithoutImprovement for early stopping
 * @param rolledBack               whether {@code latest} is the best instead of the new one
 */
record AdapterChoice(AdapterRef latest, AdapterRef best, int roundsWithoutImprovement, boolean rolledBack) {

    /** @param regressed the aggregator's own verdict (null when it gave none) */
    static AdapterChoice of(EvaluationSpec evaluation, FederatedRunStatus before, AdapterRef adapter, Boolean regressed) {
        AdapterRef best = before.bestAdapter;
        Double loss = adapter.evalLoss;
        boolean worse = best != null && best.evalLoss != null && loss != null
                && (loss > best.evalLoss * (1 + evaluation.regressionTolerance) || Boolean.TRUE.equals(regressed));
        double minDelta = evaluation.earlyStopping != null ? evaluation.earlyStopping.minDelta : 0.0;
        boolean improved = best == null || best.evalLoss == null || (loss != null && loss < best.evalLoss - minDelta);
        int withoutImprovement = improved ? 0 : (before.roundsWithoutImprovement == null ? 0 : before.roundsWithoutImprovement) + 1;
        // with no loss on either side nothing ranks them: the later adapter, built on every earlier round, is the best
        boolean unranked = loss == null && best != null && best.evalLoss == null;
        AdapterRef newBest = best == null || unranked || (loss != null && (best.evalLoss == null || loss < best.evalLoss)) ? adapter : best;
        boolean rollBack = worse && Boolean.TRUE.equals(evaluation.rollbackOnRegression);
        return new AdapterChoice(rollBack ? best : adapter, newBest, withoutImprovement, rollBack);
    }

    void applyTo(FederatedRunStatus status) {
        status.latestAdapter = latest;
        status.bestAdapter = best;
        status.roundsWithoutImprovement = roundsWithoutImprovement;
    }
}
