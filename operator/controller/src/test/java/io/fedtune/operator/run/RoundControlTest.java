package io.fedtune.operator.run;

import static io.fedtune.operator.Fixtures.NAMESPACE;
import static io.fedtune.operator.Fixtures.condition;
import static io.fedtune.operator.Fixtures.conditionIs;
import static io.fedtune.operator.Fixtures.eventReasons;
import static io.fedtune.operator.Fixtures.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.EarlyStoppingSpec;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.api.v1alpha1.Stage;
import io.fedtune.operator.FakeKubelet;
import io.fedtune.operator.argocd.ArgoHealth;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.pods.PodLabels;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.fedtune.operator.apiserver.Admin;
import io.fedtune.operator.apiserver.StrictApiServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import jakarta.inject.Inject;
import java.time.Duration;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Failures, timeouts and the life-cycle controls of a run, each against the operator and the fake kubelet. */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)
class RoundControlTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    @Inject
    @Admin
    KubernetesClient client;
    @KubernetesTestServer
    KubernetesServer server;
    FakeKubelet kubelet;

    @BeforeEach
    void kubelet() {
        kubelet = Fixtures.kubelet(client);
    }

    /** A user's spec change, as kubectl patch --type merge sends it (the in-process API server would drop status on a PUT). */
    private void patchSpec(String run, String specJson) {
        client.resources(FederatedRun.class).inNamespace(NAMESPACE).withName(run)
                .patch(PatchContext.of(PatchType.JSON_MERGE), "{\"spec\":" + specJson + "}");
    }

    @Test
    void roundTimeoutCutsStragglers() {
        Fixtures.shards(client, "timeout", "timeout-a", "timeout-b", "timeout-c");
        kubelet.script("timeout").hangTrainer("timeout-c");
        FederatedRun run = Fixtures.run("timeout", "timeout", 1);
        run.getSpec().participation.roundTimeout = "2s";
        client.resource(run).create();

        Fixtures.awaitCondition(client, "timeout", ConditionType.SUCCEEDED, "True", null);
        var summary = get(client, "timeout").getStatus().history.get(0);
        assertThat(summary.participants).containsExactly("timeout-a", "timeout-b");
        assertThat(summary.stragglers).containsExactly("timeout-c");
        assertThat(conditionIs(client, "timeout", ConditionType.DEGRADED, "True", "ShardsFailed")).isTrue();
        assertThat(eventReasons(client, "timeout")).contains("ShardsCut");
        await().atMost(WAIT).until(() -> Fixtures.pods(client, "timeout").isEmpty());
        ClientShard straggler = client.resources(ClientShard.class).inNamespace(NAMESPACE).withName("timeout-c").get();
        assertThat(straggler.getStatus().consecutiveFailures).isEqualTo(1);
    }

    @Test
    void tooFewShardsFailsTheRunAndSaysWhy() {
        Fixtures.shards(client, "few", "few-a", "few-b");
        // a failure of the shard's own (a storage failure would be retried until the round timeout, not charged)
        kubelet.script("few").failTrainer("few-b", 10).failTrainerWith("Internal");
        FederatedRun run = Fixtures.run("few", "few", 3);
        run.getSpec().participation.minShards = 2;
        run.getSpec().participation.maxRetries = 1;
        client.resource(run).create();

        Fixtures.awaitCondition(client, "few", ConditionType.FAILED, "True", "TooFewShards");
        FederatedRun failed = get(client, "few");
        assertThat(failed.getStatus().phase).isEqualTo(Phase.Failed);
        assertThat(condition(failed, ConditionType.FAILED).orElseThrow().getMessage())
                .contains("1 of 2", "minShards is 2", "few-b (Internal");
        assertThat(conditionIs(client, "few", ConditionType.READY, "False", "TooFewShards")).isTrue();
        assertThat(conditionIs(client, "few", ConditionType.PROGRESSING, "False", null)).isTrue();
        assertThat(failed.getStatus().history).singleElement().satisfies(h -> assertThat(h.outcome).isEqualTo(RoundOutcome.Failed));
        assertThat(kubelet.createdPods()).contains("few-r1-few-b-a2").doesNotContain("few-r1-agg-a1", "few-r2-few-a-a1");
        assertThat(eventReasons(client, "few")).contains("ShardFailed", "RoundFailed", "RunFailed");
        assertThat(ArgoHealth.of(failed)).satisfies(h -> {
            assertThat(h.status()).isEqualTo("Degraded");
            assertThat(h.message()).startsWith("TooFewShards");
        });
    }

    @Test
    void suspendPausesBetweenRoundsAndRaisingRoundsContinues() {
        Fixtures.shards(client, "susp", "susp-a", "susp-b");
        kubelet.script("susp").hold(p -> "2".equals(p.getMetadata().getLabels().get(PodLabels.ROUND)));
        client.resource(Fixtures.run("susp", "susp", 3)).create();
        await().atMost(WAIT).until(() -> kubelet.createdPods().contains("susp-r2-susp-b-a1"));

        patchSpec("susp", "{\"suspend\":true}");
        Fixtures.awaitCondition(client, "susp", ConditionType.SUSPENDED, "False", "RoundInProgress");
        assertThat(ArgoHealth.of(get(client, "susp")).status()).isEqualTo("Progressing");
        kubelet.release("susp");
        Fixtures.awaitCondition(client, "susp", ConditionType.SUSPENDED, "True", "SuspendRequested");
        FederatedRun suspended = get(client, "susp");
        assertThat(suspended.getStatus().phase).isEqualTo(Phase.Suspended);
        assertThat(ArgoHealth.of(suspended).status()).isEqualTo("Suspended");
        assertThat(suspended.getStatus().completedRounds).isEqualTo(2);
        assertThat(suspended.getStatus().stage).isEqualTo(Stage.Idle);
        assertThat(kubelet.createdPods()).noneMatch(n -> n.startsWith("susp-r3"));

        patchSpec("susp", "{\"suspend\":false}");
        Fixtures.awaitCondition(client, "susp", ConditionType.SUCCEEDED, "True", "RoundsCompleted");
        assertThat(get(client, "susp").getStatus().completedRounds).isEqualTo(3);

        patchSpec("susp", "{\"rounds\":4}");
        await().atMost(WAIT).until(() -> get(client, "susp").getStatus().completedRounds == 4
                && conditionIs(client, "susp", ConditionType.SUCCEEDED, "True", null));
        assertThat(get(client, "susp").getStatus().history).extracting(h -> h.round).containsExactly(1, 2, 3, 4);
    }

    @Test
    void regressionRollsBackToTheBestAdapter() {
        Fixtures.shards(client, "rb", "rb-a", "rb-b");
        kubelet.script("rb").evalLosses(2.0, 1.0, 1.5, 0.9);
        client.resource(Fixtures.run("rb", "rb", 4)).create();

        Fixtures.awaitCondition(client, "rb", ConditionType.SUCCEEDED, "True", null);
        FederatedRun run = get(client, "rb");
        assertThat(run.getStatus().history).extracting(h -> h.outcome)
                .containsExactly(RoundOutcome.Completed, RoundOutcome.Completed, RoundOutcome.RolledBack, RoundOutcome.Completed);
        TrainTask round4 = ContractJson.read(kubelet.task("rb-r4-rb-a-a1"), TrainTask.class);
        assertThat(round4.globalAdapter()).endsWith("/rb/round-0002/global");
        assertThat(run.getStatus().bestAdapter.round).isEqualTo(4);
        assertThat(eventReasons(client, "rb")).contains("RolledBack");
    }

    @Test
    void earlyStoppingEndsTheRunWhenLossStopsImproving() {
        Fixtures.shards(client, "early", "early-a");
        kubelet.script("early").evalLosses(1.0, 1.2, 1.3, 0.5, 0.4);
        FederatedRun run = Fixtures.run("early", "early", 10);
        run.getSpec().evaluation.rollbackOnRegression = false;
        run.getSpec().evaluation.earlyStopping = new EarlyStoppingSpec();
        run.getSpec().evaluation.earlyStopping.patience = 2;
        client.resource(run).create();

        Fixtures.awaitCondition(client, "early", ConditionType.SUCCEEDED, "True", "EarlyStopped");
        FederatedRun done = get(client, "early");
        assertThat(done.getStatus().completedRounds).isEqualTo(3);
        assertThat(done.getStatus().bestAdapter.round).isEqualTo(1);
        assertThat(done.getStatus().roundsWithoutImprovement).isEqualTo(2);
    }

    @Test
    void anAggregationPodThatCannotPullItsImageFailsTheRunInsteadOfAggregatingForever() {
        Fixtures.shards(client, "pull", "pull-a");
        kubelet.script("pull").cannotPull("registry.example/missing:1", PodLabels.ROLE_AGGREGATOR);
        FederatedRun run = Fixtures.run("pull", "pull", 2);
        run.getSpec().participation.maxRetries = 0;
        run.getSpec().participation.startTimeout = "2s"; // the grace is at most the start timeout
        run.getSpec().aggregator = new io.fedtune.api.v1alpha1.PodOverrides();
        run.getSpec().aggregator.image = "registry.example/missing:1";
        client.resource(run).create();

        Fixtures.awaitCondition(client, "pull", ConditionType.FAILED, "True", "AggregationFailed");
        assertThat(condition(get(client, "pull"), ConditionType.FAILED).orElseThrow().getMessage())
                .contains("(ImagePullFailed): the container cannot start: ImagePullBackOff: Back-off pulling image");
        assertThat(eventReasons(client, "pull")).contains("RunFailed");
    }

    @Test
    void refusedUpdateAndFailedAggregationAreRecorded() {
        Fixtures.shards(client, "agg", "agg-a", "agg-b");
        kubelet.script("agg").refuse("agg-b").failAggregator(1);
        client.resource(Fixtures.run("agg", "agg", 1)).create();

        Fixtures.awaitCondition(client, "agg", ConditionType.SUCCEEDED, "True", null);
        var summary = get(client, "agg").getStatus().history.get(0);
        assertThat(summary.participants).containsExactly("agg-a");
        assertThat(summary.refused).singleElement().satisfies(r -> assertThat(r.reason).isEqualTo("NormOutlier"));
        assertThat(kubelet.createdPods()).contains("agg-r1-agg-a1", "agg-r1-agg-a2").doesNotContain("agg-r1-agg-a3");
        assertThat(eventReasons(client, "agg")).contains("UpdateRefused", "AggregationFailed");
        assertThat(conditionIs(client, "agg", ConditionType.DEGRADED, "True", "UpdatesRefused")).isTrue();
    }

    @Test
    void shardFailingRoundsInARowSaysSoOnItsOwnStatus() {
        Fixtures.shards(client, "flaky", "flaky-ok", "flaky-bad");
        kubelet.script("flaky").failTrainer("flaky-bad", 10).failTrainerWith("DataMalformed");
        client.resource(Fixtures.run("flaky", "flaky", 3)).create();

        Fixtures.awaitCondition(client, "flaky", ConditionType.SUCCEEDED, "True", null);
        assertThat(get(client, "flaky").getStatus().history).allSatisfy(h -> assertThat(h.failed).containsExactly("flaky-bad"));
        // DataMalformed cannot be fixed by another attempt: one pod per round
        assertThat(kubelet.createdPods()).contains("flaky-r3-flaky-bad-a1").doesNotContain("flaky-r1-flaky-bad-a2");
        await().atMost(WAIT).until(() -> {
            ClientShard bad = client.resources(ClientShard.class).inNamespace(NAMESPACE).withName("flaky-bad").get();
            return bad.getStatus().conditions.stream().anyMatch(c -> c.getType().equals(ConditionType.DEGRADED)
                    && c.getStatus().equals("True") && c.getReason().equals("RepeatedFailures"));
        });
        ClientShard bad = client.resources(ClientShard.class).inNamespace(NAMESPACE).withName("flaky-bad").get();
        assertThat(bad.getStatus().consecutiveFailures).isEqualTo(3);
        assertThat(ArgoHealth.of(bad).status()).isEqualTo("Degraded");
    }

    @Test
    void invalidSpecIsRefusedAndNothingIsCreated() {
        Fixtures.shards(client, "bad", "bad-a");
        FederatedRun run = Fixtures.run("bad", "bad", 2);
        run.getSpec().lora.rank = 0;
        client.resource(run).create();

        Fixtures.awaitCondition(client, "bad", ConditionType.READY, "False", "InvalidSpec");
        FederatedRun refused = get(client, "bad");
        assertThat(condition(refused, ConditionType.READY).orElseThrow().getMessage()).contains("spec.lora.rank");
        assertThat(Fixtures.events(client, "bad")).anySatisfy(e -> {
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getReason()).isEqualTo("InvalidSpec");
        });
        assertThat(kubelet.createdPods()).noneMatch(n -> n.startsWith("bad-r"));
        assertThat(refused.getStatus().currentRound).isNull();
        assertThat(ArgoHealth.of(refused).status()).isEqualTo("Degraded");

        patchSpec("bad", "{\"lora\":{\"rank\":4}}");
        Fixtures.awaitCondition(client, "bad", ConditionType.SUCCEEDED, "True", null);
    }

    @Test
    void changingAnImmutableFieldMidRunIsRefused() {
        Fixtures.shards(client, "imm", "imm-a");
        kubelet.script("imm").hold(p -> "2".equals(p.getMetadata().getLabels().get(PodLabels.ROUND)));
        client.resource(Fixtures.run("imm", "imm", 2)).create();
        await().atMost(WAIT).until(() -> kubelet.createdPods().contains("imm-r2-imm-a-a1"));

        patchSpec("imm", "{\"lora\":{\"rank\":16}}");
        Fixtures.awaitCondition(client, "imm", ConditionType.READY, "False", "ImmutableFieldChanged");
        assertThat(condition(get(client, "imm"), ConditionType.READY).orElseThrow().getMessage()).contains("spec.lora");
        assertThat(eventReasons(client, "imm")).contains("ImmutableFieldChanged");

        patchSpec("imm", "{\"lora\":{\"rank\":8}}");
        kubelet.release("imm");
        Fixtures.awaitCondition(client, "imm", ConditionType.SUCCEEDED, "True", null);
    }

    /** A refused request (here a quota) reaches Ready instead of freezing the stage; the retry that gets through clears it. */
    @Test
    void aRefusedPodCreateShowsInReadyUntilARetryGetsThrough() {
        String ns = "fedtune-refused";
        // the trainer's create is refused: the preparation is held until the refusal is armed
        kubelet.script("refused").hold(p -> PodLabels.ROLE_PREPARER.equals(p.getMetadata().getLabels().get(PodLabels.ROLE)));
        ClientShard shard = Fixtures.shard("refused-a", "refused");
        shard.getMetadata().setNamespace(ns);
        client.resource(shard).create();
        FederatedRun run = Fixtures.run("refused", "refused", 1);
        run.getMetadata().setNamespace(ns);
        client.resource(run).create();
        await().atMost(WAIT).until(() -> kubelet.createdPods().contains("refused-prepare-a1"));
        server.expect().post().withPath("/api/v1/namespaces/" + ns + "/pods").andReturn(403, new StatusBuilder().withCode(403)
                .withReason("Forbidden").withMessage("pods \"refused-r1-refused-a-a1\" is forbidden: exceeded quota: gpu").build()).once();
        kubelet.release("refused");
        var runs = client.resources(FederatedRun.class).inNamespace(ns).withName("refused");

        await().atMost(WAIT).until(() -> Fixtures.condition(runs.get(), ConditionType.READY)
                .filter(c -> "False".equals(c.getStatus()) && "ReconcileError".equals(c.getReason())).isPresent());
        FederatedRun refused = runs.get();
        assertThat(condition(refused, ConditionType.READY).orElseThrow().getMessage())
                .isEqualTo("the API server refused a request (403 Forbidden): pods \"refused-r1-refused-a-a1\" is forbidden: exceeded quota: gpu");
        assertThat(refused.getStatus().stage).isEqualTo(Stage.Training);
        assertThat(ArgoHealth.of(refused).status()).isEqualTo("Degraded");
        assertThat(client.v1().events().inNamespace(ns).list().getItems()).anySatisfy(e -> {
            assertThat(e.getReason()).isEqualTo("ReconcileError");
            assertThat(e.getType()).isEqualTo("Warning");
        });

        await().atMost(WAIT).until(() -> Fixtures.condition(runs.get(), ConditionType.SUCCEEDED)
                .filter(c -> "True".equals(c.getStatus())).isPresent());
        assertThat(condition(runs.get(), ConditionType.READY).orElseThrow().getStatus()).isEqualTo("True");
    }

    @Test
    void deletingARunRemovesItsPods() {
        Fixtures.shards(client, "del", "del-a", "del-b");
        kubelet.script("del").hold(p -> PodLabels.ROLE_TRAINER.equals(p.getMetadata().getLabels().get(PodLabels.ROLE)));
        client.resource(Fixtures.run("del", "del", 2)).create();
        await().atMost(WAIT).until(() -> Fixtures.pods(client, "del").size() == 2);
        assertThat(Fixtures.pods(client, "del")).allSatisfy(p -> {
            assertThat(p.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> assertThat(o.getName()).isEqualTo("del"));
        });

        client.resources(FederatedRun.class).inNamespace(NAMESPACE).withName("del").delete();
        await().atMost(WAIT).until(() -> Fixtures.pods(client, "del").isEmpty() && get(client, "del") == null);
    }
}
