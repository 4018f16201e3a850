package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.RoundSummary;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The run's preparation alone: the base model's files recorded before round 1, retried, failing the run, restarted. */
class PrepareBaseModelTest {

    private static RoundWorld unprepared() {
        RoundWorld w = new RoundWorld("p", 2, "a").unprepared();
        w.run.getSpec().participation.retryBackoff = "10s";
        return w;
    }

    private static String env(Pod pod, String name) {
        return pod.getSpec().getContainers().get(0).getEnv().stream().filter(e -> name.equals(e.getName())).findFirst()
                .map(EnvVar::getValue).orElse(null);
    }

    @Test
    void theBaseModelsFilesAreRecordedThenRoundOneStartsAndItsAggregationChecksThem() {
        RoundWorld w = unprepared();
        RunSnapshot s = w.reconcile();
        assertThat(w.state).isInstanceOf(RoundState.Preparing.class);
        assertThat(w.status.stage).isEqualTo(Stage.Preparing);
        assertThat(s.situation.reason()).isEqualTo(ConditionReason.Preparing);
        assertThat(w.status.startedWith).as("spec.baseModel is fixed once its files are being recorded").isNotNull();
        assertThat(w.pods.created).containsExactly(w.preparer(1));
        Pod pod = w.pod(w.preparer(1));
        assertThat(pod.getMetadata().getLabels()).containsEntry(PodLabels.ROLE, PodLabels.ROLE_PREPARER)
                .doesNotContainKey(PodLabels.ROUND);
        assertThat(pod.getSpec().getContainers().get(0).getArgs()).containsExactly("prepare");
        assertThat(env(pod, TrainerEnv.ROLE)).isEqualTo("prepare");
        assertThat(env(pod, TrainerEnv.STORAGE_ACCESS_KEY)).as("a secretKeyRef, not a value").isNull();
        assertThat(pod.getSpec().getContainers().get(0).getEnv()).anyMatch(e -> TrainerEnv.STORAGE_ACCESS_KEY.equals(e.getName()));
        assertThat(w.prepareTask(w.preparer(1)).baseModel()).isEqualTo("s3://models/tiny");
        assertThat(w.prepareTask(w.preparer(1)).attempt()).isEqualTo(1);

        w.reconcile();
        assertThat(w.pods.created).as("no second pod while it runs").hasSize(1);
        w.succeedPreparation(1);
        s = w.reconcile();
        assertThat(w.status.baseModel).extracting(f -> f.name + "=" + f.sha256)
                .containsExactly("config.json=sha-config", "model.safetensors=sha-weights", "tokenizer.json=sha-tokenizer");
        assertThat(w.status.stage).isEqualTo(Stage.Idle);
        assertThat(w.status.currentRound).isNull();
        assertThat(s.requeue()).contains(Duration.ZERO);
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.Prepared);
            assertThat(e.message()).contains("3 file(s)", "sha-weights");
        });

        w.reconcile();
        assertThat(w.status.currentRound).isEqualTo(1);
        assertThat(w.pods.deleted).containsExactly(w.preparer(1));
        w.reconcile();
        w.succeedTrainer(1, "a", 1);
        w.reconcile();
        assertThat(w.task(w.aggregator(1, 1)).baseModelFiles()).containsExactly(Map.entry("config.json", "sha-config"),
                Map.entry("model.safetensors", "sha-weights"), Map.entry("tokenizer.json", "sha-tokenizer"));
    }

    @Test
    void aTransientFailureIsRetriedAfterItsBackoff() {
        RoundWorld w = unprepared();
        w.reconcile();
        w.failPreparation(1, FailureReason.InputMissing, "no object s3://models/tiny/config.json");
        w.clock.advance(Duration.ofSeconds(4));
        RunSnapshot s = w.reconcile();
        assertThat(s.situation.reason()).isEqualTo(ConditionReason.PreparationRetryBackoff);
        assertThat(s.situation.message()).contains("InputMissing", "config.json");
        assertThat(s.requeue()).contains(Duration.ofSeconds(6));
        assertThat(w.pods.created).hasSize(1);

        w.clock.advance(Duration.ofSeconds(6));
        w.reconcile();
        assertThat(w.pods.created).containsExactly(w.preparer(1), w.preparer(2));
        assertThat(w.prepareTask(w.preparer(2)).attempt()).isEqualTo(2);
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.PreparationFailed);
        w.succeedPreparation(2);
        w.reconcile();
        assertThat(w.status.baseModel).hasSize(3);
        assertThat(w.status.phase).isEqualTo(Phase.Running);
    }

    @Test
    void aPermanentFailureFailsTheRunWithThePodsMessage() {
        RoundWorld w = unprepared();
        w.reconcile();
        String why = "model.safetensors has SHA-256 abc, spec.baseModel.sha256 is def";
        w.failPreparation(1, FailureReason.CheckpointInvalid, why);
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.stage).isEqualTo(Stage.Idle);
        assertThat(w.status.baseModel).isNull();
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getReason()).isEqualTo(ConditionReason.PreparationFailed.name());
            assertThat(c.getMessage()).contains("CheckpointInvalid", why);
        }).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo(ConditionReason.PreparationFailed.name());
        });
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.RunFailed);
            assertThat(e.message()).contains(why);
        });

        w.clock.advance(Duration.ofMinutes(5));
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Failed);
        assertThat(w.pods.created).as("not retried").containsExactly(w.preparer(1));
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.RunFailed);
    }

    @Test
    void aPodThatCannotStartIsCutLikeAnAggregationPod() {
        RoundWorld w = unprepared();
        w.reconcile();
        w.waiting(w.preparer(1), "InvalidImageName", "couldn't parse image reference");
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo(ConditionReason.PreparationFailed.name());
            assertThat(c.getMessage()).contains("ImageInvalid", "InvalidImageName");
        });
    }

    @Test
    void aRestartWhilePreparingCreatesNoSecondPod() {
        RoundWorld w = unprepared();
        w.reconcile();
        w.restart();
        w.reconcile();
        assertThat(w.state).isInstanceOf(RoundState.Preparing.class);
        assertThat(w.pods.created).containsExactly(w.preparer(1));
        w.succeedPreparation(1);
        w.restart();
        w.reconcile();
        w.restart();
        w.reconcile();
        assertThat(w.status.baseModel).hasSize(3);
        assertThat(w.status.currentRound).isEqualTo(1);
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.Prepared);
        assertThat(w.pods.created).containsExactly(w.preparer(1));
    }

    @Test
    void aRunAnOlderOperatorStartedIsNotPreparedMidRun() {
        RoundWorld w = unprepared();
        w.status.currentRound = 1;
        w.status.completedRounds = 1;
        RoundSummary round1 = new RoundSummary();
        round1.round = 1;
        round1.outcome = RoundOutcome.Completed;
        w.status.history.add(round1);
        w.reconcile();
        assertThat(w.state).isEqualTo(new RoundState.BetweenRounds(2));
        assertThat(w.status.currentRound).isEqualTo(2);
        assertThat(w.pods.created).isEmpty();
        w.reconcile();
        w.succeedTrainer(2, "a", 1);
        w.reconcile();
        assertThat(w.task(w.aggregator(2, 1)).baseModelFiles()).as("nothing recorded: only baseModelSha256 is checked").isNull();
    }

    @Test
    void aRunCreatedSuspendedPreparesNothingUntilResumed() {
        RoundWorld w = unprepared();
        w.run.getSpec().suspend = true;
        w.reconcile();
        assertThat(w.state).isEqualTo(new RoundState.Suspended(0));
        assertThat(w.pods.created).isEmpty();
        w.run.getSpec().suspend = false;
        w.reconcile();
        assertThat(w.pods.created).containsExactly(w.preparer(1));
        assertThat(List.of(w.status.stage)).containsExactly(Stage.Preparing);
    }
}
