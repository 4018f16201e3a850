package io.fedtune.operator.run;

import static io.fedtune.operator.Fixtures.NAMESPACE;
import static io.fedtune.operator.Fixtures.conditionIs;
import static io.fedtune.operator.Fixtures.eventReasons;
import static io.fedtune.operator.Fixtures.get;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.api.v1alpha1.RoundOutcome;
import io.fedtune.operator.FakeKubelet;
import io.fedtune.operator.argocd.ArgoHealth;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.pods.PodLabels;
import io.quarkus.test.junit.QuarkusTest;
import io.fedtune.operator.apiserver.Admin;
import io.fedtune.operator.apiserver.StrictApiServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)
class FederatedRunLifecycleTest {
    @Inject
    @Admin
    KubernetesClient client;
    FakeKubelet kubelet;

    @BeforeEach
    void kubelet() {
        kubelet = Fixtures.kubelet(client);
    }

    @Test
    void fullRunTrainsEveryRoundAndSucceeds() {
        Fixtures.shards(client, "full", "full-a", "full-b", "full-c");
        client.resource(Fixtures.run("full", "full", 3)).create();

        Fixtures.awaitCondition(client, "full", ConditionType.SUCCEEDED, "True", "RoundsCompleted");
        FederatedRun run = get(client, "full");
        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertThat(run.getStatus().completedRounds).isEqualTo(3);
        assertThat(run.getStatus().progress).isEqualTo("3/3");
        assertThat(run.getStatus().history).extracting(h -> h.round).containsExactly(1, 2, 3);
        assertThat(run.getStatus().history).allSatisfy(h -> {
            assertThat(h.outcome).isEqualTo(RoundOutcome.Completed);
            assertThat(h.participants).containsExactly("full-a", "full-b", "full-c");
            // what the fake kubelet's trainers and aggregator report: the CPU, FP32, no cache
            assertThat(h.trainerDevices).isEqualTo("cpu/FP32 x3");
            assertThat(h.aggregationDevice).isEqualTo("cpu/FP32");
            assertThat(h.cacheHits).isNull();
        });
        assertThat(run.getStatus().bestAdapter.round).isEqualTo(3);
        assertThat(run.getStatus().bestAdapter.evalLoss).isEqualTo(1.0);
        assertThat(run.getStatus().latestAdapter.uri).isEqualTo("s3://fedtune-runs/fedtune/" + NAMESPACE + "/full/round-0003/global");
        assertThat(run.getStatus().baseModel).extracting(f -> f.name)
                .containsExactly("config.json", "model.safetensors", "tokenizer.json");
        assertThat(run.getStatus().bestAdapter.configSha256).isNotNull();
        assertThat(run.getStatus().result.uri).isEqualTo("s3://fedtune-runs/fedtune/" + NAMESPACE + "/full/final");
        assertThat(run.getStatus().result.round).isEqualTo(3);
        assertThat(run.getStatus().result.sha256).isEqualTo(run.getStatus().bestAdapter.sha256);
        assertThat(run.getStatus().result.configSha256).isEqualTo(run.getStatus().bestAdapter.configSha256);
        assertThat(run.getStatus().observedGeneration).isEqualTo(run.getMetadata().getGeneration());
        assertThat(conditionIs(client, "full", ConditionType.READY, "True", null)).isTrue();
        assertThat(conditionIs(client, "full", ConditionType.PROGRESSING, "False", null)).isTrue();
        assertThat(conditionIs(client, "full", ConditionType.DEGRADED, "False", "AllShardsHealthy")).isTrue();
        // one preparation, one trainer per shard per round and one aggregation per round, one publishing, nothing more
        List<String> created = kubelet.createdPods().stream().filter(n -> n.startsWith("full-")).toList();
        assertThat(created).hasSize(1 + 3 * 4 + 1).startsWith("full-prepare-a1").endsWith("full-r3-publish-a1")
                .contains("full-r1-full-a-a1", "full-r2-agg-a1", "full-r3-full-c-a1");
        assertThat(eventReasons(client, "full")).contains("Prepared", "RoundStarted", "RoundFinished", "Published", "RunSucceeded");
        ClientShard shard = client.resources(ClientShard.class).inNamespace(NAMESPACE).withName("full-a").get();
        assertThat(shard.getStatus().lastRound).isEqualTo(3);
        assertThat(shard.getStatus().lastRun).isEqualTo("full");
        assertThat(shard.getStatus().consecutiveFailures).isZero();
        assertThat(List.of(shard.getStatus().device, shard.getStatus().precision, shard.getStatus().cache))
                .containsExactly("cpu", "FP32", "off");
        await().until(() -> Fixtures.pods(client, "full").isEmpty());
        assertThat(ArgoHealth.of(get(client, "full")).status()).isEqualTo("Healthy");
        assertThat(ArgoHealth.of(shard).status()).isEqualTo("Healthy");
    }

    @Test
    void pausedShardIsLeftOutAndJoiningShardTakesPartFromTheNextRound() {
        Fixtures.shards(client, "pause", "pause-a");
        ClientShard paused = Fixtures.shard("pause-p", "pause");
        paused.getSpec().paused = true;
        client.resource(paused).create();
        kubelet.script("pause").hold(p -> "1".equals(p.getMetadata().getLabels().get(PodLabels.ROUND)));
        client.resource(Fixtures.run("pause", "pause", 2)).create();
        await().atMost(Duration.ofSeconds(30)).until(() -> kubelet.createdPods().contains("pause-r1-pause-a-a1"));
        Fixtures.shards(client, "pause", "pause-late");
        kubelet.release("pause");

        Fixtures.awaitCondition(client, "pause", ConditionType.SUCCEEDED, "True", null);
        FederatedRun run = get(client, "pause");
        assertThat(run.getStatus().history.get(0).participants).containsExactly("pause-a");
        assertThat(run.getStatus().history.get(1).participants).containsExactly("pause-a", "pause-late");
        assertThat(run.getStatus().shards.paused).isEqualTo(1);
        await().atMost(Duration.ofSeconds(30)).until(() -> "Suspended".equals(ArgoHealth.of(
                client.resources(ClientShard.class).inNamespace(NAMESPACE).withName("pause-p").get()).status()));
    }

    @Test
    void failedTrainerIsRetriedWithBackoff() {
        Fixtures.shards(client, "retry", "retry-a", "retry-b");
        kubelet.script("retry").failTrainer("retry-a", 2);
        client.resource(Fixtures.run("retry", "retry", 1)).create();

        Fixtures.awaitCondition(client, "retry", ConditionType.SUCCEEDED, "True", null);
        FederatedRun run = get(client, "retry");
        assertThat(run.getStatus().history.get(0).participants).containsExactly("retry-a", "retry-b");
        assertThat(kubelet.createdPods()).contains("retry-r1-retry-a-a1", "retry-r1-retry-a-a2", "retry-r1-retry-a-a3")
                .doesNotContain("retry-r1-retry-b-a2");
        assertThat(eventReasons(client, "retry")).contains("ShardFailed");
    }
}
