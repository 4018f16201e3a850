package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.EvalTask;
import io.fedtune.api.v1alpha1.LocalEval;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.operator.events.EventReason;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A round's history entry: the primary metric, every metric per set, and each participant's local eval (global vs local). */
class RoundEvaluationTest {

    @Test
    void theEntryKeepsThePrimaryScoreThePerSetMetricsAndTheLocalEvals() {
        RoundWorld w = new RoundWorld("ev", 2, "a", "b");
        w.run.getSpec().evaluation.datasets = List.of(AdapterChoiceTest.evalSet(EvalTask.MultipleChoice));
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(1, "a", 1, "AccuracyNorm", 0.40, 0.55);
        w.succeedTrainer(1, "b", 1, "Loss", 2.5, 2.1);
        w.reconcile();
        w.succeedAggregation(1, 1, "AccuracyNorm", 0.52, 1.7);
        w.reconcile();
        RoundSummary r = w.status.history.get(0);
        assertThat(r.evalMetric).isEqualTo("AccuracyNorm");
        assertThat(r.globalEvalScore).isEqualTo(0.52);
        assertThat(r.globalEvalLoss).isEqualTo(1.7);
        assertThat(r.evalLosses).containsEntry("in-domain", 1.7);
        // MultipleChoice reports Accuracy, AccuracyNorm and Loss: all kept
        assertThat(r.evalScores).containsEntry("in-domain", Map.of("AccuracyNorm", 0.52, "Loss", 1.7));
        assertThat(r.localEvals).extracting(l -> l.shard + " " + l.metric + " " + l.global + " " + l.local)
                .containsExactlyInAnyOrder("a AccuracyNorm 0.4 0.55", "b Loss 2.5 2.1");
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.RoundFinished);
            assertThat(e.message()).endsWith("global AccuracyNorm 0.5200 on in-domain");
        });
    }

    @Test
    void withoutEvalSetsTheRoundIsRankedByTheShardsLocalLosses() {
        RoundWorld w = new RoundWorld("noev", 2, "a");
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(1, "a", 1);
        w.reconcile();
        // an aggregation without eval sets reports no score (an older image: no metric either)
        var task = w.task(w.aggregator(1, 1));
        w.finishAggregation(1, new io.fedtune.api.contract.AggregateResult(io.fedtune.api.contract.Outcome.Succeeded, null, null, 1,
                task.output(), "sha-global-1", List.of("a"), List.of(), null, null, null, null, null, 1.0, null, null, null, "sha-config-1",
                null, null, null));
        w.reconcile();
        RoundSummary r = w.status.history.get(0);
        assertThat(r.evalMetric).isEqualTo("Loss");
        assertThat(r.globalEvalScore).as("the trainer's evalLossAfter").isEqualTo(2.1);
        assertThat(w.status.bestAdapter.evalMetric).isEqualTo("Loss");
        assertThat(w.status.bestAdapter.evalScore).isEqualTo(2.1);
        assertThat(w.events).anySatisfy(e -> assertThat(e.message()).contains("global Loss 2.1000 (mean of the shards' local losses)"));
    }

    @Test
    void localEvalsAreBoundedLikeTheNames() {
        RoundSummary summary = new RoundSummary();
        summary.round = 1;
        summary.localEvals = IntStream.range(0, 50).mapToObj(i -> new LocalEval("s" + i, "Loss", 1.0, 0.9)).toList();
        RoundHistory.bounded(summary);
        assertThat(summary.localEvals).hasSize(RoundSummary.NAMES_LIMIT);
    }
}
