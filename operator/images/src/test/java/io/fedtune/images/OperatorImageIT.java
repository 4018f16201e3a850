package io.fedtune.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.operator.pods.PodLabels;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator image, built from operator/controller/src/main/docker/Dockerfile.jvm, runs as the chart deploys it: the
 * pod of the Deployment that real Helm renders from the chart's defaults (user 185, read-only root, /tmp an emptyDir,
 * the chart's env), against an in-process API server. It becomes ready on the chart's readiness probe and starts the
 * quickstart's first round with trainer pods that name the trainer image the build makes.
 */
class OperatorImageIT {
    private static final String NAMESPACE = "fedtune-system";

    @Test
    void theChartsOperatorPodBecomesReadyAndStartsTrainerPodsWithTheBuiltTrainerImage() throws Exception {
        Images.operator();
        Path work = Files.createDirectories(Images.ROOT.resolve("operator/images/target/it/operator"));
        Deployment deployment = renderedDeployment();
        Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo(Images.OPERATOR);

        KubernetesMockServer server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(),
                new KubernetesCrudDispatcher(), false);
        server.init(InetAddress.getLoopbackAddress(), freePort());
        PodmanKubelet.Started operator = null;
        try (KubernetesClient client = server.createClient()) {
            for (Path crd : crds()) {
                try (InputStream in = Files.newInputStream(crd)) {
                    client.apiextensions().v1().customResourceDefinitions()
                            .resource(client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class)).create();
                }
            }
            int http = freePort();
            // out of the cluster: the API server's address instead of the service account, and a free port on the
            // host network instead of the pod's own 8080
            List<EnvVar> env = new ArrayList<>(container.getEnv());
            env.add(new EnvVar("QUARKUS_KUBERNETES_CLIENT_API_SERVER_URL", "http://127.0.0.1:" + server.getPort(), null));
            env.add(new EnvVar("KUBERNETES_AUTH_TRYKUBECONFIG", "false", null));
            env.add(new EnvVar("KUBERNETES_AUTH_TRYSERVICEACCOUNT", "false", null));
            env.add(new EnvVar("QUARKUS_HTTP_PORT", Integer.toString(http), null));
            container.setEnv(env);
            Pod pod = new PodBuilder().withNewMetadata().withName("fedtune-operator").withNamespace(NAMESPACE).endMetadata()
                    .withSpec(deployment.getSpec().getTemplate().getSpec()).build();
            operator = new PodmanKubelet(work.resolve("pods"), List.of(), List.of()).start(pod);

            String readiness = container.getReadinessProbe().getHttpGet().getPath();
            HttpClient httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            PodmanKubelet.Started started = operator;
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() ->
                    assertThat(httpClient.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + readiness)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode())
                            .as(() -> logs(started)).isEqualTo(200));

            String ns = QuickstartSilos.NAMESPACE;
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            Path quickstart = Images.ROOT.resolve("examples/quickstart");
            for (Secret s : QuickstartSilos.documents(quickstart.resolve("secrets.yaml"), Secret.class)) {
                client.resource(s).inNamespace(ns).create();
            }
            for (ClientShard s : QuickstartSilos.documents(quickstart.resolve("shards.yaml"), ClientShard.class)) {
                client.resource(s).inNamespace(ns).create();
            }
            client.resource(QuickstartSilos.documents(quickstart.resolve("run.yaml"), FederatedRun.class).get(0)).inNamespace(ns).create();

            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertThat(client.pods().inNamespace(ns).withLabel(PodLabels.ROLE, PodLabels.ROLE_TRAINER).list().getItems())
                            .as(() -> logs(started)).hasSize(3)
                            .allSatisfy(p -> {
                                Container trainer = p.getSpec().getContainers().get(0);
                                assertThat(trainer.getImage()).isEqualTo(Images.TRAINER);
                                assertThat(trainer.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
                            }));
        } finally {
            if (operator != null) {
                Files.writeString(work.resolve("operator.log"), PodmanKubelet.logs(operator));
                PodmanKubelet.stop(operator);
            }
            server.destroy();
        }
    }

    private static String logs(PodmanKubelet.Started operator) {
        try {
            String log = PodmanKubelet.logs(operator);
            return log.length() <= 4000 ? log : log.substring(log.length() - 4000);
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }

    private static Deployment renderedDeployment() throws Exception {
        String manifests = new Helm(io.fedtune.strictapi.RenderableChart.of(Images.ROOT.resolve("charts/fedtune-operator"))).template().withName("fedtune")
                .withNamespace(NAMESPACE).call();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        for (JsonNode doc : yaml.readerFor(JsonNode.class).<JsonNode>readValues(manifests).readAll()) {
            if (doc != null && !doc.isNull() && "Deployment".equals(doc.path("kind").asText())) {
                HasMetadata d = Serialization.unmarshal(doc.toString());
                return (Deployment) d;
            }
        }
        throw new AssertionError("the chart rendered no Deployment");
    }

    private static List<Path> crds() throws Exception {
        try (Stream<Path> files = Files.list(Images.ROOT.resolve("crds"))) {
            return files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
