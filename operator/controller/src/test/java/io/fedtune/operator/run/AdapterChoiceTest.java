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
    void theAggregatorsOwnVerdictRollsBackEvenWithinTolerance() {
        EvaluationSpec evaluation = new EvaluationSpec();
        evaluation.regressionTolerance = 0.5;
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(1.2), true).rolledBack()).isTrue();
        // but without an eval loss there is nothing to compare
        assertThat(AdapterChoice.of(evaluation, bestWas(1.0, 0), round2(null), true).rolledBack()).isFalse();
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
