package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.AdapterRef;
import io.fedtune.api.v1alpha1.EarlyStoppingSpec;
import io.fedtune.api.v1alpha1.EvaluationSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.operator.events.EventReason;
import org.junit.jupiter.api.Test;

/** Rollback and early-stopping edges of the adapter choice, and both across whole rounds of the step machine. */
class AdapterChoiceTest {

    private static FederatedRunStatus bestWas(double loss, int withoutImprovement) {
        FederatedRunStatus status = new FederatedRunStatus();
        status.bestAdapter = new AdapterRef("s3://b/r1", 1, "sha1", loss);
        status.latestAdapter = status.bestAdapter;
        status.roundsWithoutImprovement = withoutImprovement;
        return status;
    }

    private static AdapterRef round2(Double loss) {
        return new AdapterRef("s3://b/r2", 2, "sha2", loss);
    }

    @Test
    void theFirstRoundIsTheBest() {
        AdapterChoice c = AdapterChoice.of(new EvaluationSpec(), new FederatedRunStatus(), round2(5.0), null);
        assertThat(c.best()).isEqualTo(c.latest());
        assertThat(c.rolledBack()).isFalse();
        assertThat(c.roundsWithoutImprovement()).isZero();
    }

    @Test
    void aRegressionRollsBackOnlyBeyondTheTolerance() {
        EvaluationSpec evaluation = new EvaluationSpec();
        evaluation.regressionTolerance = 0.1;
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(1.1), null).rolledBack()).isFalse();
        AdapterChoice beyond = AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(1.1001), null);
        assertThat(beyond.rolledBack()).isTrue();
        assertThat(beyond.latest().round).isEqualTo(1);
        assertThat(beyond.best().round).isEqualTo(1);
        assertThat(beyond.roundsWithoutImprovement()).isEqualTo(1);

        evaluation.rollbackOnRegression = false;
        AdapterChoice kept = AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(2.0), null);
        assertThat(kept.rolledBack()).isFalse();
        assertThat(kept.latest().round).isEqualTo(2);
        assertThat(kept.best().round).isEqualTo(1);
    }

    @Test
    void theAggregatorsVerdictCountsOnlyForARoundWithoutAScore() {
        EvaluationSpec evaluation = new EvaluationSpec();
        evaluation.regressionTolerance = 0.5;
        // with a score the operator judges, with the run's tolerance: 1.2 is within 50% of 1.0
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(1.2), true).rolledBack()).isFalse();
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(1.6), false).rolledBack()).isTrue();
        // without one, the aggregator's verdict is all there is
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(null), true).rolledBack()).isTrue();
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(null), null).rolledBack()).isFalse();
    }

    private static FederatedRunStatus bestScored(String metric, double score, int withoutImprovement) {
        FederatedRunStatus status = bestWas(2.0, withoutImprovement);
        status.bestAdapter.evalMetric = metric;
        status.bestAdapter.evalScore = score;
        return status;
    }

    private static AdapterRef round2(String metric, double score) {
        AdapterRef a = round2(2.0);
        a.evalMetric = metric;
        a.evalScore = score;
        return a;
    }

    @Test
    void anAccuracyRunKeepsTheHighestAndRollsBackOnADropBeyondTheTolerance() {
        EvaluationSpec evaluation = new EvaluationSpec();
        evaluation.regressionTolerance = 0.1;
        AdapterChoice higher = AdapterChoice.of(evaluation, bestScored("Accuracy", 0.5, 0), round2("Accuracy", 0.6), null);
        assertThat(higher.best().round).isEqualTo(2);
        assertThat(higher.rolledBack()).isFalse();
        // 0.45 is 10% below 0.5: within the tolerance, kept as latest, not the best
        AdapterChoice within = AdapterChoice.of(evaluation, bestScored("Accuracy", 0.5, 0), round2("Accuracy", 0.45), null);
        assertThat(within.rolledBack()).isFalse();
        assertThat(within.latest().round).isEqualTo(2);
        assertThat(within.best().round).isEqualTo(1);
        AdapterChoice beyond = AdapterChoice.of(evaluation, bestScored("Accuracy", 0.5, 0), round2("Accuracy", 0.4499), null);
        assertThat(beyond.rolledBack()).isTrue();
        assertThat(beyond.latest().round).isEqualTo(1);
        assertThat(beyond.roundsWithoutImprovement()).isEqualTo(1);
    }

    @Test
    void anAccuracyRunCountsRoundsWithoutAnIncreaseOfMoreThanMinDelta() {
        EvaluationSpec evaluation = new EvaluationSpec();
        evaluation.earlyStopping = new EarlyStoppingSpec();
        evaluation.earlyStopping.minDelta = 0.01;
        assertThat(AdapterChoice.of(evaluation, bestScored("RougeL", 0.40, 1), round2("RougeL", 0.405), null).roundsWithoutImprovement())
                .isEqualTo(2);
        assertThat(AdapterChoice.of(evaluation, bestScored("RougeL", 0.40, 1), round2("RougeL", 0.30), null).roundsWithoutImprovement())
                .isEqualTo(2);
        assertThat(AdapterChoice.of(evaluation, bestScored("RougeL", 0.40, 1), round2("RougeL", 0.4101), null).roundsWithoutImprovement())
                .isZero();
    }

    @Test
    void aBestRankedByAnotherMetricIsUnranked() {
        EvaluationSpec evaluation = new EvaluationSpec();
        // the eval sets changed mid-run: a Loss of 0.2 and an Accuracy of 0.1 are not compared
        AdapterChoice c = AdapterChoice.of(evaluation, bestScored("Loss", 0.2, 3), round2("Accuracy", 0.1), null);
        assertThat(c.rolledBack()).isFalse();
        assertThat(c.best().round).isEqualTo(2);
        assertThat(c.roundsWithoutImprovement()).isZero();
    }

    @Test
    void aBestAnOlderOperatorRecordedIsRankedByItsLoss() {
        AdapterChoice c = AdapterChoice.of(new EvaluationSpec(), bestWas(1.0, 0), round2("Loss", 0.9), null);
        assertThat(c.best().round).isEqualTo(2);
        assertThat(AdapterChoice.of(new EvaluationSpec(), bestWas(1.0, 0), round2("Loss", 1.1), null).rolledBack()).isTrue();
    }

    static io.fedtune.api.v1alpha1.EvalDataset evalSet(io.fedtune.api.v1alpha1.EvalTask task) {
        var d = new io.fedtune.api.v1alpha1.EvalDataset();
        d.name = "in-domain";
        d.uri = "s3://fedtune-runs/eval/in-domain.jsonl";
        d.task = task;
        return d;
    }

    @Test
    void accuracyRunsOverWholeRounds() {
        RoundWorld w = new RoundWorld("acc", 10, "a");
        w.run.getSpec().evaluation.datasets = java.util.List.of(evalSet(io.fedtune.api.v1alpha1.EvalTask.Classification));
        w.run.getSpec().evaluation.regressionTolerance = 0.05;
        w.run.getSpec().evaluation.earlyStopping = new EarlyStoppingSpec();
        w.run.getSpec().evaluation.earlyStopping.patience = 2;
        w.runRound("Accuracy", 0.50);
        w.runRound("Accuracy", 0.62);
        assertThat(w.status.bestAdapter.round).isEqualTo(2);
        assertThat(w.status.bestAdapter.evalMetric).isEqualTo("Accuracy");
        assertThat(w.status.bestAdapter.evalScore).isEqualTo(0.62);
        assertThat(w.status.bestAdapter.evalLoss).as("the primary Loss stays").isEqualTo(2.0);
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.RoundFinished);
            assertThat(e.message()).contains("round 2 Completed", "global Accuracy 0.6200 on in-domain");
        });
        w.runRound("Accuracy", 0.55);
        assertThat(w.status.history.get(2).outcome).as("0.55 is more than 5% below 0.62").isEqualTo(RoundOutcome.RolledBack);
        assertThat(w.status.history.get(2).evalMetric).isEqualTo("Accuracy");
        assertThat(w.status.history.get(2).globalEvalScore).isEqualTo(0.55);
        assertThat(w.status.history.get(2).evalScores).containsEntry("in-domain", java.util.Map.of("Accuracy", 0.55, "Loss", 2.0));
        assertThat(w.status.latestAdapter.round).isEqualTo(2);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Degraded");
            assertThat(c.getReason()).isEqualTo("RolledBack");
            assertThat(c.getMessage()).isEqualTo("round 3 regressed (Accuracy 0.5500); the next round starts from round 2's adapter"
                    + " (Accuracy 0.6200)");
        });
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.RolledBack);
            assertThat(e.message()).contains("Accuracy 0.5500", "best Accuracy 0.6200 (round 2)");
        });
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(4, "a", 1);
        w.reconcile();
        assertThat(w.task(w.aggregator(4, 1)).bestEvalScore()).isEqualTo(0.62);
        w.succeedAggregation(4, 1, "Accuracy", 0.615, 2.0);
        w.reconcile();
        assertThat(w.status.roundsWithoutImprovement).as("no increase for two rounds").isEqualTo(2);
        w.publish();
        assertThat(w.status.result.round).isEqualTo(2);
        assertThat(w.status.result.evalScore).isEqualTo(0.62);
        w.reconcile();
        assertThat(((RoundState.Finished) w.state).reason().name()).isEqualTo("EarlyStopped");
        assertThat(((RoundState.Finished) w.state).message()).contains("Accuracy");
    }

    @Test
    void aLossRunRanksByLossAsBefore() {
        RoundWorld w = new RoundWorld("loss", 3, "a");
        w.run.getSpec().evaluation.datasets = java.util.List.of(evalSet(io.fedtune.api.v1alpha1.EvalTask.LanguageModeling));
        w.runRound(2.0);
        w.runRound(1.5);
        assertThat(w.status.bestAdapter.evalMetric).isEqualTo("Loss");
        assertThat(w.status.bestAdapter.evalScore).isEqualTo(1.5);
        assertThat(w.status.history.get(1).evalMetric).isEqualTo("Loss");
        assertThat(w.status.history.get(1).globalEvalScore).isEqualTo(1.5);
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(3, "a", 1);
        w.reconcile();
        assertThat(w.task(w.aggregator(3, 1)).bestEvalScore()).isEqualTo(1.5);
    }

    @Test
    void earlyStoppingCountsRoundsThatDoNotImproveByMoreThanMinDelta() {
        EvaluationSpec evaluation = new EvaluationSpec();
        evaluation.earlyStopping = new EarlyStoppingSpec();
        evaluation.earlyStopping.minDelta = 0.1;
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 1), round2(0.9), null).roundsWithoutImprovement()).isEqualTo(2);
        AdapterChoice better = AdapterChoice.of(evaluation, bestWas(1.0, 1), round2(0.8999), null);
        assertThat(better.roundsWithoutImprovement()).isZero();
        // a lower loss within minDelta is still the best adapter, though it does not reset the count
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(0.95), null).best().round).isEqualTo(2);
    }

    @Test
    void rollbackAndEarlyStoppingOverWholeRounds() {
        RoundWorld w = new RoundWorld("e", 10, "a");
        w.run.getSpec().evaluation.earlyStopping = new EarlyStoppingSpec();
        w.run.getSpec().evaluation.earlyStopping.patience = 2;
        w.runRound(1.0);
        w.runRound(1.5);
        assertThat(w.status.history.get(1).outcome).isEqualTo(RoundOutcome.RolledBack);
        assertThat(w.status.latestAdapter.round).isEqualTo(1);
        assertThat(w.eventReasons()).contains(EventReason.RolledBack);
        w.reconcile(); // round 3 starts
        w.reconcile(); // its trainer
        w.succeedTrainer(3, "a", 1);
        w.reconcile();
        assertThat(w.task(w.aggregator(3, 1)).previousGlobal()).isEqualTo(w.status.bestAdapter.uri);
        w.succeedAggregation(3, 1, 1.2, null);
        w.reconcile();
        assertThat(w.status.roundsWithoutImprovement).isEqualTo(2);

        w.publish();
        assertThat(w.status.result.round).as("the best adapter is published").isEqualTo(1);
        w.reconcile();
        assertThat(w.state).isInstanceOf(RoundState.Finished.class);
        assertThat(((RoundState.Finished) w.state).reason().name()).isEqualTo("EarlyStopped");
        assertThat(w.status.completedRounds).isEqualTo(3);
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.RunSucceeded);
        w.reconcile();
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.RunSucceeded);
    }
}
