package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.FakeKubelet;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.events.KubernetesEvents;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.shard.ShardStatusWriter;
import io.fedtune.operator.validation.CrdSchemaValidator;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.fedtune.operator.apiserver.Admin;
import io.fedtune.operator.apiserver.StrictApiServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The operator replaced mid-round and mid-aggregation. The Quarkus-managed operator is kept to its own namespace for
 * the duration; in this one, each "operator instance" is a fresh JOSDK Operator with a new reconciler, new informers
 * and empty caches, built by hand over the same API server, as a restarted pod would start. The first instance is
 * stopped while pods are in flight; the pods finish with no operator running; a second instance must finish the run
 * with the same history and adapters as an uninterrupted run of the same spec, without a second aggregation pod.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)
class OperatorRestartTest {
    private static final String NS = "fedtune-restart";
    private static final Duration WAIT = Duration.ofSeconds(30);
    @Inject
    @Admin
    KubernetesClient client;
    /** The operator's own client (its service account's token): what each hand-built instance uses. */
    @Inject
    KubernetesClient operatorClient;
    @Inject
    Operator quarkusOperator;
    FakeKubelet kubelet;
    Operator instance;

    @BeforeEach
    void setUp() {
        kubelet = Fixtures.kubelet(client);
        quarkusOperator.getRegisteredController(FederatedRunReconciler.NAME).orElseThrow().changeNamespaces(Set.of(Fixtures.NAMESPACE));
        if (client.resources(ClientShard.class).inNamespace(NS).list().getItems().isEmpty()) {
            for (String n : List.of("rs-a", "rs-b", "rs-c")) {
                ClientShard shard = Fixtures.shard(n, "restart");
                shard.getMetadata().setNamespace(NS);
                client.resource(shard).create();
            }
        }
    }

    @AfterEach
    void tearDown() {
        stopInstance();
        quarkusOperator.getRegisteredController(FederatedRunReconciler.NAME).orElseThrow()
                .changeNamespaces(Set.of(Constants.WATCH_ALL_NAMESPACES));
    }

    @Test
    void newInstanceContinuesMidRound() {
        String reference = runToTheEnd("ref-round");
        kubelet.script("mid-round").hold(p -> "2".equals(p.getMetadata().getLabels().get(PodLabels.ROUND))
                && PodLabels.ROLE_TRAINER.equals(p.getMetadata().getLabels().get(PodLabels.ROLE)));
        startInstance();
        create("mid-round");
        await().atMost(WAIT).until(() -> kubelet.createdPods().stream().filter(n -> n.startsWith("mid-round-r2-")).count() == 2);
        stopInstance();
        kubelet.release("mid-round");

        startInstance();
        await().atMost(WAIT).until(() -> phase("mid-round") == Phase.Succeeded);
        assertThat(result("mid-round")).isEqualTo(reference);
        // the same two trainers (no new attempt, no other shard) and one aggregation
        assertThat(kubelet.createdPods().stream().filter(n -> n.startsWith("mid-round-r2-")).toList())
                .hasSize(3).contains("mid-round-r2-agg-a1").allMatch(n -> n.endsWith("-a1"));
    }

    @Test
    void newInstanceContinuesMidAggregation() {
        String reference = runToTheEnd("ref-agg");
        kubelet.script("mid-agg").hold(p -> "2".equals(p.getMetadata().getLabels().get(PodLabels.ROUND))
                && PodLabels.ROLE_AGGREGATOR.equals(p.getMetadata().getLabels().get(PodLabels.ROLE)));
        startInstance();
        create("mid-agg");
        await().atMost(WAIT).until(() -> kubelet.createdPods().contains("mid-agg-r2-agg-a1"));
        stopInstance();

        startInstance();
        kubelet.release("mid-agg");
        await().atMost(WAIT).until(() -> phase("mid-agg") == Phase.Succeeded);
        assertThat(result("mid-agg")).isEqualTo(reference);
        assertThat(kubelet.createdPods()).filteredOn(n -> n.startsWith("mid-agg-r") && n.contains("-agg-a"))
                .containsExactly("mid-agg-r1-agg-a1", "mid-agg-r2-agg-a1", "mid-agg-r3-agg-a1");
    }

    private String runToTheEnd(String name) {
        startInstance();
        create(name);
        await().atMost(WAIT).until(() -> phase(name) == Phase.Succeeded);
        stopInstance();
        return result(name);
    }

    private void create(String name) {
        FederatedRun run = Fixtures.run(name, "restart", 3);
        run.getMetadata().setNamespace(NS);
        run.getSpec().participation.fraction = 0.6; // 2 of the 3 shards per round, seeded
        client.resource(run).create();
    }

    private Phase phase(String name) {
        FederatedRun run = client.resources(FederatedRun.class).inNamespace(NS).withName(name).get();
        return run == null || run.getStatus() == null ? null : run.getStatus().phase;
    }

    /** What a run produced, without what names or times it: participants, losses and adapter checksums per round. */
    private String result(String name) {
        var status = client.resources(FederatedRun.class).inNamespace(NS).withName(name).get().getStatus();
        StringBuilder out = new StringBuilder();
        status.history.forEach(h -> out.append(h.round).append(' ').append(h.outcome).append(' ').append(h.participants)
                .append(' ').append(h.globalEvalLoss).append('\n'));
        out.append("completed ").append(status.completedRounds).append(" best ").append(status.bestAdapter.round)
                .append(' ').append(status.bestAdapter.sha256).append(" latest ").append(status.latestAdapter.sha256);
        return out.toString();
    }

    private void startInstance() {
        RoundActions actions = new RoundActions(new KubernetesRunPods(operatorClient), new KubernetesEvents(operatorClient),
                new RunMetrics(new SimpleMeterRegistry()), new TrainerPodBuilder("trainer:test", Fixtures.signers()),
                new AggregationPodBuilder("trainer:test"), new ShardStatusWriter(operatorClient), new CrdSchemaValidator());
        instance = new Operator(o -> o.withKubernetesClient(operatorClient).withCloseClientOnStop(false)
                .withUseSSAToPatchPrimaryResource(false).withSSABasedCreateUpdateMatchForDependentResources(false));
        instance.register(new FederatedRunReconciler(actions), c -> c.settingNamespaces(Set.of(NS)));
        instance.start();
    }

    private void stopInstance() {
        if (instance != null) {
            instance.stop();
            instance = null;
        }
    }
}
