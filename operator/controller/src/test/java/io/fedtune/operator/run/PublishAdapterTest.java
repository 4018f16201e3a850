package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.FailureReason;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.v1alpha1.ConditionReason;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.events.EventReason;
import io.fedtune.operator.pods.PodLabels;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Publishing the best adapter alone: status.result, a tampered source, retries, a restart, runs finished before. */
class PublishAdapterTest {
    private static final String FINAL = "s3://fedtune-runs/fedtune/fedtune-it/u/final";

    /** One round recorded; the next reconcile publishes. */
    private static RoundWorld done() {
        RoundWorld w = new RoundWorld("u", 1, "a");
        w.run.getSpec().participation.retryBackoff = "10s";
        w.runRound(1.25);
        return w;
    }

    @Test
    void theBestAdapterIsPublishedWithItsRecordedHashesThenTheRunSucceeds() {
        RoundWorld w = done();
        assertThat(w.status.latestAdapter.configSha256).as("from AggregateResult.configSha256").isEqualTo("sha-config-1");
        assertThat(w.status.bestAdapter.configSha256).isEqualTo("sha-config-1");
        RunSnapshot s = w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Publishing);
        assertThat(w.status.stage).isEqualTo(Stage.Publishing);
        assertThat(w.status.phase).isEqualTo(Phase.Running);
        assertThat(s.situation.reason()).isEqualTo(ConditionReason.Publishing);
        assertThat(w.pods.created).last().isEqualTo(w.publisher(1, 1));
        Pod pod = w.pod(w.publisher(1, 1));
        assertThat(pod.getMetadata().getLabels()).containsEntry(PodLabels.ROLE, PodLabels.ROLE_PUBLISHER).containsEntry(PodLabels.ROUND, "1");
        assertThat(pod.getSpec().getContainers().get(0).getArgs()).containsExactly("publish");
        PublishTask task = w.publishTask(w.publisher(1, 1));
        assertThat(task.source()).isEqualTo(w.status.bestAdapter.uri);
        assertThat(task.round()).isEqualTo(1);
        assertThat(task.sourceSha256()).containsExactly(Map.entry("adapter_model.safetensors", "sha-global-1"),
                Map.entry("adapter_config.json", "sha-config-1"));
        assertThat(task.evalLoss()).isEqualTo(1.25);
        assertThat(task.baseModel()).isEqualTo("s3://models/tiny");
        assertThat(task.destination()).isEqualTo(FINAL);

        w.succeedPublishing(1, 1);
        s = w.reconcile();
        assertThat(s.requeue()).as("the next reconcile removes the publishing pod").contains(Duration.ZERO);
        assertThat(w.status.result.uri).isEqualTo(FINAL);
        assertThat(w.status.result.round).isEqualTo(1);
        assertThat(w.status.result.sha256).isEqualTo("sha-global-1");
        assertThat(w.status.result.configSha256).isEqualTo("sha-config-1");
        assertThat(w.status.result.evalLoss).isEqualTo(1.25);
        assertThat(w.status.phase).isEqualTo(Phase.Succeeded);
        assertThat(w.status.stage).isEqualTo(Stage.Idle);
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Succeeded");
            assertThat(c.getStatus()).isEqualTo("True");
            assertThat(c.getReason()).isEqualTo(ConditionReason.RoundsCompleted.name());
        });
        assertThat(w.events).anySatisfy(e -> {
            assertThat(e.reason()).isEqualTo(EventReason.Published);
            assertThat(e.message()).contains(FINAL, "sha-global-1");
        });
        assertThat(w.eventReasons()).containsSubsequence(EventReason.Published, EventReason.RunSucceeded);

        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Finished);
        assertThat(w.pods.pods).isEmpty();
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.RunSucceeded);
    }

    @Test
    void aTamperedBestAdapterFailsTheRunAndNothingIsPublished() {
        RoundWorld w = done();
        w.reconcile();
        String why = "adapter_model.safetensors of round-0001/global has SHA-256 0bad, the task says sha-global-1";
        w.failPublishing(1, 1, FailureReason.InputTampered, why);
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.result).isNull();
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo(ConditionReason.PublishingFailed.name());
            assertThat(c.getMessage()).contains("InputTampered", why);
        }).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Ready");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo(ConditionReason.PublishingFailed.name());
        });
        assertThat(w.eventReasons()).contains(EventReason.RunFailed).doesNotContain(EventReason.Published, EventReason.RunSucceeded);
        w.clock.advance(Duration.ofMinutes(1));
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Failed);
        assertThat(w.pods.created).filteredOn(n -> n.contains("publish")).containsExactly(w.publisher(1, 1));
    }

    @Test
    void aFailedPublishingIsRetriedWithTheSameTask() {
        RoundWorld w = done();
        w.reconcile();
        PublishTask task = w.publishTask(w.publisher(1, 1));
        w.failPublishing(1, 1, FailureReason.InputMissing, "lagging");
        w.clock.advance(Duration.ofSeconds(10));
        w.reconcile();
        assertThat(w.pods.created).last().isEqualTo(w.publisher(1, 2));
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.PublishingFailed);
        assertThat(w.publishTask(w.publisher(1, 2))).isEqualTo(new PublishTask(task.run(), task.namespace(), 2, task.storage(),
                task.source(), task.round(), task.sourceSha256(), task.evalLoss(), task.baseModel(), task.destination(), task.card()));
        w.succeedPublishing(1, 2);
        w.reconcile();
        assertThat(w.status.result.sha256).isEqualTo("sha-global-1");
    }

    @Test
    void aPublisherReportingAnotherHashThanTheRecordedOneFailsTheRun() {
        RoundWorld w = done();
        w.reconcile();
        w.succeedPublishing(1, 1, "0bad");
        w.reconcile();
        assertThat(w.status.phase).isEqualTo(Phase.Failed);
        assertThat(w.status.result).isNull();
        assertThat(w.status.conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Failed");
            assertThat(c.getReason()).isEqualTo(ConditionReason.PublishingFailed.name());
            assertThat(c.getMessage()).contains("0bad", "sha-global-1");
        });
    }

    @Test
    void aTransientFailureWaitsForItsBackoff() {
        RoundWorld w = done();
        w.reconcile();
        w.failPublishing(1, 1, FailureReason.StorageUnreachable, "object storage at http://s3.storage:9000 did not answer");
        w.clock.advance(Duration.ofSeconds(3));
        RunSnapshot s = w.reconcile();
        assertThat(s.situation.reason()).isEqualTo(ConditionReason.PublishingRetryBackoff);
        assertThat(s.requeue()).contains(Duration.ofSeconds(7));
        assertThat(w.status.phase).isEqualTo(Phase.Running);
    }

    @Test
    void aRestartWhilePublishingCreatesNoSecondPod() {
        RoundWorld w = done();
        w.reconcile();
        w.restart();
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Publishing);
        assertThat(w.pods.created).filteredOn(n -> n.contains("publish")).containsExactly(w.publisher(1, 1));
        w.succeedPublishing(1, 1);
        w.restart();
        w.reconcile();
        w.restart();
        w.reconcile();
        assertThat(w.status.result.round).isEqualTo(1);
        assertThat(w.eventReasons()).containsOnlyOnce(EventReason.Published);
        assertThat(w.pods.created).filteredOn(n -> n.contains("publish")).containsExactly(w.publisher(1, 1));
    }

    @Test
    void aRunAnOlderOperatorFinishedIsNotPublishedAfterTheUpgrade() {
        RoundWorld w = done();
        w.status.phase = Phase.Succeeded;
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Finished);
        assertThat(w.pods.created).noneMatch(n -> n.contains("publish"));
    }

    @Test
    void moreRoundsWithANewBestArePublishedAgain() {
        RoundWorld w = done();
        w.publish();
        w.run.getSpec().rounds = 2;
        w.runRound(1.0);
        w.reconcile();
        assertThat(w.state.kind()).isEqualTo(RoundState.Kind.Publishing);
        assertThat(w.publishTask(w.publisher(2, 1)).source()).isEqualTo(w.status.bestAdapter.uri);
        w.succeedPublishing(2, 1);
        w.reconcile();
        assertThat(w.status.result.round).isEqualTo(2);
        assertThat(w.status.result.sha256).isEqualTo("sha-global-2");
    }

    @Test
    void theModelCardSaysHowTheAdapterWasMade() {
        RoundWorld w = new RoundWorld("card", 3, "a", "b");
        var spec = w.run.getSpec();
        spec.evaluation.datasets = java.util.List.of(AdapterChoiceTest.evalSet(io.fedtune.api.v1alpha1.EvalTask.Generation),
                AdapterChoiceTest.evalSet(io.fedtune.api.v1alpha1.EvalTask.Classification));
        spec.evaluation.datasets.get(1).name = "out-of-domain";
        spec.aggregation.privacy = new io.fedtune.api.v1alpha1.PrivacySpec();
        spec.aggregation.privacy.delta = 1e-6;
        for (int round = 1; round <= 3; round++) {
            w.reconcile();
            w.reconcile();
            int r = round;
            w.status.roundShards.forEach(shard -> w.succeedTrainer(r, shard, 1));
            w.reconcile();
            var task = w.task(w.aggregator(round, 1));
            double score = round == 2 ? 0.45 : 0.30 + 0.01 * round;
            // round 2 aggregates a only (b refused); the others both
            java.util.List<String> accepted = round == 2 ? java.util.List.of("a") : task.updates().stream().map(u -> u.shard()).toList();
            w.finishAggregation(round, new io.fedtune.api.contract.AggregateResult(io.fedtune.api.contract.Outcome.Succeeded, null, null,
                    round, task.output(), "sha-global-" + round, accepted, java.util.List.of(), 1.8, Map.of("in-domain", 1.8), null, null,
                    0.5 * round, 1.0, "cpu", "FP32", null, "sha-config-" + round, "RougeL", score,
                    Map.of("in-domain", Map.of("RougeL", score, "ExactMatch", 0.2, "Loss", 1.8),
                            "out-of-domain", Map.of("Accuracy", 0.7, "AccuracyNorm", 0.72, "Loss", 2.2))));
            w.reconcile();
        }
        assertThat(w.status.bestAdapter.round).isEqualTo(2);
        w.reconcile();
        io.fedtune.api.contract.ModelCard card = w.publishTask(w.publisher(2, 1)).card();
        assertThat(card.run()).isEqualTo("card");
        assertThat(card.baseModel()).isEqualTo("s3://models/tiny");
        assertThat(card.dataOwners()).containsExactlyInAnyOrder("a", "b");
        assertThat(card.rounds()).isEqualTo(3);
        assertThat(card.strategy()).isEqualTo("FedAvg");
        assertThat(card.rank()).isEqualTo(spec.lora.rank);
        assertThat(card.alpha()).isEqualTo(spec.lora.alpha);
        assertThat(card.targetModules()).containsExactly("q_proj", "v_proj");
        assertThat(card.epsilon()).as("spent by the end").isEqualTo(1.5);
        assertThat(card.delta()).isEqualTo(1e-6);
        assertThat(card.evalMetric()).isEqualTo("RougeL");
        assertThat(card.evaluation()).containsExactly(
                new io.fedtune.api.contract.ModelCard.EvalRow("in-domain", "Generation",
                        new java.util.TreeMap<>(Map.of("ExactMatch", 0.2, "Loss", 1.8, "RougeL", 0.45))),
                new io.fedtune.api.contract.ModelCard.EvalRow("out-of-domain", "Classification",
                        new java.util.TreeMap<>(Map.of("Accuracy", 0.7, "AccuracyNorm", 0.72, "Loss", 2.2))));
        assertThat(io.fedtune.api.contract.ContractJson.write(card)).doesNotContain("credentials", "secret");

        w.succeedPublishing(2, 1);
        w.reconcile();
        assertThat(w.status.result.evalMetric).isEqualTo("RougeL");
        assertThat(w.status.result.evalScore).isEqualTo(0.45);
    }

    @Test
    void aRunWithoutPrivacyHasACardWithoutEpsilon() {
        RoundWorld w = done();
        w.reconcile();
        io.fedtune.api.contract.ModelCard card = w.publishTask(w.publisher(1, 1)).card();
        assertThat(card.dataOwners()).containsExactly("a");
        assertThat(card.epsilon()).isNull();
        assertThat(card.delta()).isNull();
        // a set the spec does not name (the scripted aggregation reports one) has no task
        assertThat(card.evaluation()).singleElement().satisfies(row -> {
            assertThat(row.set()).isEqualTo("in-domain");
            assertThat(row.task()).isNull();
        });
    }

    @Test
    void aBestRoundOlderThanTheHistoryKeepsItsPrimaryRow() {
        io.fedtune.api.v1alpha1.FederatedRunStatus status = new io.fedtune.api.v1alpha1.FederatedRunStatus();
        io.fedtune.api.v1alpha1.AdapterRef best = new io.fedtune.api.v1alpha1.AdapterRef("s3://b/r1", 1, "sha", 1.9);
        best.evalMetric = "Accuracy";
        best.evalScore = 0.8;
        RoundWorld w = new RoundWorld("old", 30, "a");
        w.run.getSpec().evaluation.datasets = java.util.List.of(AdapterChoiceTest.evalSet(io.fedtune.api.v1alpha1.EvalTask.Classification));
        assertThat(RunModelCard.evaluation(w.run.getSpec(), status, best)).containsExactly(new io.fedtune.api.contract.ModelCard.EvalRow(
                "in-domain", "Classification", new java.util.TreeMap<>(Map.of("Accuracy", 0.8, "Loss", 1.9))));
    }
}
