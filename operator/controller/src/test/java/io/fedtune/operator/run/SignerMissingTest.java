package io.fedtune.operator.run;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Event;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.ConditionType;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.FakeKubelet;
import io.fedtune.operator.Fixtures;
import io.fedtune.operator.apiserver.Admin;
import io.fedtune.operator.apiserver.StrictApiServer;
import io.fedtune.operator.events.KubernetesEvents;
import io.fedtune.operator.metrics.RunMetrics;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.fedtune.operator.shard.ShardStatusWriter;
import io.fedtune.operator.signing.StorageSigners;
import io.fedtune.operator.status.Conditions;
import io.fedtune.operator.validation.CrdSchemaValidator;
import io.javaoperatorsdk.operator.Operator;
import io.javaoperatorsdk.operator.api.reconciler.Constants;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A run whose storage endpoint the operator has no signer for is refused by name and creates nothing; once the operator
 * is restarted with a signer for it, the run proceeds. Each operator is a fresh JOSDK Operator over the strict API
 * server, as in {@link OperatorRestartTest}, with or without the signer the chart would have mounted.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true, setup = StrictApiServer.class)
class SignerMissingTest {
    private static final String NS = "fedtune-signer";
    private static final Duration WAIT = Duration.ofSeconds(30);
    @Inject
    @Admin
    KubernetesClient client;
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
        for (String n : List.of("sg-a", "sg-b")) {
            ClientShard shard = Fixtures.shard(n, "signer");
            shard.getMetadata().setNamespace(NS);
            client.resource(shard).create();
        }
    }

    @AfterEach
    void tearDown() {
        stopInstance();
        quarkusOperator.getRegisteredController(FederatedRunReconciler.NAME).orElseThrow()
                .changeNamespaces(Set.of(Constants.WATCH_ALL_NAMESPACES));
    }

    @Test
    void aRunWithoutASignerIsRefusedByNameAndProceedsOnceTheOperatorHasOne() {
        startInstance(StorageSigners.none());
        FederatedRun run = Fixtures.run("unsigned", "signer", 1);
        run.getMetadata().setNamespace(NS);
        client.resource(run).create();

        await().atMost(WAIT).until(() -> readyReason("unsigned").equals("SignerMissing"));
        var ready = Conditions.find(status("unsigned").conditions, ConditionType.READY).orElseThrow();
        assertThat(ready.getStatus()).isEqualTo("False");
        assertThat(ready.getMessage()).isEqualTo("no storage signer for " + Fixtures.STORAGE_ENDPOINT + ": the operator signs "
                + "trainer pods' URLs with a credential mounted by the chart; add the endpoint to the chart's storageSigners "
                + "values (endpoint, secretName) and upgrade");
        await().atMost(WAIT).until(() -> !events("unsigned").isEmpty());
        assertThat(events("unsigned")).singleElement().satisfies(e -> {
            assertThat(e.getReason()).isEqualTo("SignerMissing");
            assertThat(e.getType()).isEqualTo("Warning");
            assertThat(e.getMessage()).isEqualTo(ready.getMessage());
        });
        assertThat(kubelet.createdPods()).noneMatch(n -> n.startsWith("unsigned-"));
        assertThat(client.pods().inNamespace(NS).list().getItems()).isEmpty();
        assertThat(status("unsigned").currentRound).as("no round was started").isNull();
        stopInstance();

        startInstance(Fixtures.signers());
        await().atMost(WAIT).until(() -> status("unsigned") != null && status("unsigned").phase == Phase.Succeeded);
        assertThat(readyReason("unsigned")).isEqualTo("Succeeded");
        assertThat(kubelet.createdPods()).contains("unsigned-r1-agg-a1");
    }

    private void startInstance(StorageSigners signers) {
        RoundActions actions = new RoundActions(new KubernetesRunPods(operatorClient), new KubernetesEvents(operatorClient),
                new RunMetrics(new SimpleMeterRegistry()), new TrainerPodBuilder("trainer:test", signers),
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

    private io.fedtune.api.v1alpha1.FederatedRunStatus status(String name) {
        FederatedRun run = client.resources(FederatedRun.class).inNamespace(NS).withName(name).get();
        return run == null ? null : run.getStatus();
    }

    private String readyReason(String name) {
        var status = status(name);
        return status == null ? "" : Conditions.find(status.conditions, ConditionType.READY).map(c -> c.getReason()).orElse("");
    }

    private List<Event> events(String name) {
        return client.v1().events().inNamespace(NS).list().getItems().stream()
                .filter(e -> name.equals(e.getInvolvedObject().getName())).toList();
    }
}
