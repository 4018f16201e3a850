package io.fedtune.operator.run;

import io.fedtune.api.contract.FailureReason;
import static org.assertj.core.api.Assertions.assertThat;

import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.validation.Violation;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The state derived from status and pods, and a restart in each state: a new operator instance (new steps, nothing
 * remembered) over the same status and pods derives the same state and neither repeats nor skips work.
 */
class RoundStateTest {

    @Test
    void aRunMovesBetweenRoundsTrainingAggregatingAndFinished() {
        RoundWorld w = new RoundWorld("s", 1, "a");
        w.reconcile();
        assertThat(w.state).isEqualTo(new RoundState.BetweenRounds(1));
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Training);
        w.succeedTrainer(1, "a", 1);
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Training);
        assertThat(w.status.stage).isEqualTo(Stage.Aggregating);
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Aggregating);
        w.succeedAggregation(1, 1, 1.0, null);
        w.reconcile();
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Publishing);
        assertThat(w.status.stage).isEqualTo(Stage.Publishing);
        w.succeedPublishing(1, 1);
        w.reconcile();
        w.reconcile();
        assertThat(w.state).isEqualTo(new RoundState.Finished(ConditionReason.RoundsCompleted,
                "all 1 rounds completed; the best adapter is from round 1"));
        assertThat(w.status.phase).isEqualTo(Phase.Succeeded);
        assertThat(w.status.stage).isEqualTo(Stage.Idle);
    }

    @Test
    void restartBetweenRoundsStartsTheRoundStatusNamesAndNoOther() {
        RoundWorld w = new RoundWorld("s", 2, "a", "b");
        w.run.getSpec().participation.fraction = 0.5;
        w.reconcile();
        List<String> chosen = List.copyOf(w.status.roundShards);
        w.restart();
        w.reconcile();
        assertThat(w.pods.created).containsExactly(w.trainer(1, chosen.get(0), 1));
    }

    @Test
    void restartWhileTrainingCreatesNoSecondAttemptAndKeepsTheBackoff() {
        RoundWorld w = new RoundWorld("s", 2, "a", "b");
        w.run.getSpec().participation.retryBackoff = "10s";
        w.reconcile();
        w.reconcile();
        w.failTrainer(1, "a", 1, FailureReason.StorageUnreachable);
        w.clock.advance(Duration.ofSeconds(4));
        w.restart();
        RunSnapshot s = w.reconcile();
        assertThat(w.pods.created).hasSize(2);
        assertThat(s.requeue()).contains(Duration.ofSeconds(6));
    }

    @Test
    void restartWhileAggregatingCreatesNoSecondAggregationPod() {
        RoundWorld w = new RoundWorld("s", 2, "a");
        w.reconcile();
        w.reconcile();
        w.succeedTrainer(1, "a", 1);
        w.reconcile();
        w.restart();
        w.reconcile();
        w.reconcile();
        assertThat(w.pods.created).containsExactly(w.trainer(1, "a", 1), w.aggregator(1, 1));
        w.succeedAggregation(1, 1, 1.0, null);
        w.restart();
        w.reconcile();
        w.restart();
        w.reconcile(); // round 2 starts; round 1 is recorded once
        assertThat(w.status.history).hasSize(1);
        assertThat(w.shardWrites).containsExactly("a trained r1");
    }

    @Test
    void restartWhenFinishedFailedOrSuspendedChangesNothing() {
        RoundWorld done = new RoundWorld("s", 1, "a");
        done.runRound(1.0);
        done.publish();
        done.reconcile();
        done.restart();
        done.reconcile();
        assertThat(done.state.kind()).isEqualTo(RoundState.Kind.Finished);
        assertThat(done.eventReasons()).containsOnlyOnce(EventReason.RunSucceeded);

        RoundWorld paused = new RoundWorld("p", 3, "a");
        paused.runRound(1.0);
        paused.run.getSpec().suspend = true;
        paused.reconcile();
        paused.restart();
        paused.reconcile();
        assertThat(paused.state).isEqualTo(new RoundState.Suspended(1));
        assertThat(paused.status.phase).isEqualTo(Phase.Suspended);
        assertThat(paused.eventReasons()).containsOnlyOnce(EventReason.Suspended);
        assertThat(paused.pods.pods).isEmpty();
        paused.run.getSpec().suspend = false;
        paused.reconcile();
        assertThat(paused.status.currentRound).isEqualTo(2);

        RoundWorld failed = new RoundWorld("f", 3, "a");
        failed.reconcile();
        failed.reconcile();
        failed.failTrainer(1, "a", 1, FailureReason.InvalidTask);
        failed.reconcile();
        failed.restart();
        failed.reconcile();
        assertThat(failed.state).isEqualTo(new RoundState.Failed(ConditionReason.TooFewShards,
                ((RoundState.Failed) failed.state).message()));
        assertThat(failed.status.phase).isEqualTo(Phase.Failed);
        assertThat(failed.eventReasons()).containsOnlyOnce(EventReason.RunFailed);
    }

    @Test
    void anInvalidSpecMidRoundKeepsTheStageAndTouchesNoPod() {
        RoundWorld w = new RoundWorld("s", 2, "a");
        w.reconcile();
        w.reconcile();
        w.violations = List.of(new Violation("spec.lora.rank", "spec.lora.rank: must be at least 1"));
        w.reconcile();
        w.reconcile();
        assertThat(w.state).isInstanceOf(RoundState.InvalidSpec.class);
        assertThat(w.status.stage).isEqualTo(Stage.Training);
        assertThat(w.pods.pods).containsOnlyKeys(w.trainer(1, "a", 1));
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.InvalidSpec);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getReason()).isEqualTo("InvalidSpec");
        });

        w.violations = List.of();
        w.run.getSpec().lora.rank = 16; // an immutable field of a started run
        w.reconcile();
        assertThat(((RoundState.InvalidSpec) w.state).reason()).isEqualTo(ConditionReason.ImmutableFieldChanged);
        assertThat(((RoundState.InvalidSpec) w.state).message()).startsWith("spec.lora changed");
    }
}
