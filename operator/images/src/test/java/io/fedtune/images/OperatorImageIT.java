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
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.pods.ServerTaskPodBuilder;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The operator image, built from operator/controller/src/main/docker/Dockerfile.jvm, runs as the chart deploys it: the
 * pod of the Deployment that real Helm renders from the chart's defaults (user 185, read-only root, /tmp an emptyDir,
 * the chart's env), against an in-process API server. It becomes ready on the chart's readiness probe and starts the
 * quickstart's run: the chart mounts a signer for the run's storage endpoint (a Secret volume, read by user 185 through
 * the pod's fsGroup); the operator starts the preparation pod with the trainer image the build makes, and once it
 * reports the base model's files (this test plays its kubelet), round 1's trainer pods with that image, presigned URLs
 * signed with the mounted key, and no run-storage credential.
 */
class OperatorImageIT {
    private static final String NAMESPACE = "fedtune-system";

    private static final String SIGNER_SECRET = "fedtune-signer-quickstart";
    private static final Path QUICKSTART = Images.ROOT.resolve("examples/quickstart");

    @Test
    void theChartsOperatorPodBecomesReadyAndStartsTrainerPodsWithTheBuiltTrainerImage() throws Exception {
        Images.operator();
        Path work = Files.createDirectories(Images.ROOT.resolve("operator/images/target/it/operator"));
        FederatedRun run = QuickstartSilos.documents(QUICKSTART.resolve("run.yaml"), FederatedRun.class).get(0);
        List<Secret> quickstartSecrets = QuickstartSilos.documents(QUICKSTART.resolve("secrets.yaml"), Secret.class);
        Deployment deployment = renderedDeployment(run.getSpec().storage.endpoint);
        Container container = deployment.getSpec().getTemplate().getSpec().getContainers().get(0);
        assertThat(container.getImage()).isEqualTo(Images.OPERATOR);
        assertThat(container.getEnv()).filteredOn(e -> e.getName().equals("FEDTUNE_SIGNERS")).singleElement()
                .extracting(EnvVar::getValue).asString().contains(run.getSpec().storage.endpoint, "/etc/fedtune/signers/0");

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
            // the signing credential the chart mounts: the run storage's own keys, in the release's namespace
            Secret storage = quickstartSecrets.stream()
                    .filter(x -> x.getMetadata().getName().equals(run.getSpec().storage.credentialsSecret.name)).findFirst().orElseThrow();
            Secret signer = new SecretBuilder().withNewMetadata().withName(SIGNER_SECRET).withNamespace(NAMESPACE).endMetadata()
                    .withStringData(storage.getStringData()).build();
            operator = new PodmanKubelet(work.resolve("pods"), List.of(signer), List.of()).start(pod);

            String readiness = container.getReadinessProbe().getHttpGet().getPath();
            HttpClient httpClient = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
            PodmanKubelet.Started started = operator;
            await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions().untilAsserted(() ->
                    assertThat(httpClient.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + http + readiness)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode())
                            .as(() -> logs(started)).isEqualTo(200));

            String ns = QuickstartSilos.NAMESPACE;
            client.namespaces().resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).create();
            for (Secret s : quickstartSecrets) {
                client.resource(s).inNamespace(ns).create();
            }
            for (ClientShard s : QuickstartSilos.documents(QUICKSTART.resolve("shards.yaml"), ClientShard.class)) {
                client.resource(s).inNamespace(ns).create();
            }
            client.resource(run).inNamespace(ns).create();

            // before round 1, the preparation pod; this test plays its kubelet with the base model's real files
            Pod preparer = await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).until(() ->
                    client.pods().inNamespace(ns).withLabel(PodLabels.ROLE, PodLabels.ROLE_PREPARER).list().getItems(),
                    pods -> pods.size() == 1).get(0);
            Container preparing = preparer.getSpec().getContainers().get(0);
            assertThat(preparing.getImage()).isEqualTo(Images.TRAINER);
            assertThat(preparing.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
            assertThat(ServerTaskPodBuilder.taskOf(preparer, PrepareTask.class)).get().extracting(PrepareTask::baseModel)
                    .isEqualTo(run.getSpec().baseModel.uri);
            String prepared = Preparation.succeededMessage();
            client.pods().inNamespace(ns).withName(preparer.getMetadata().getName()).editStatus(p ->
                    PodmanKubelet.terminated(p, preparing.getName(), 0, prepared));

            // then round 1: each trainer pod holds presigned URLs, signed with the mounted signer, and no credential.
            // Asserted on a view of each pod that carries no URL query, so no signature reaches a failure message.
            Map<String, String> baseModel = ModelFile.sha256ByName(Preparation.expectedFiles());
            await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    assertThat(client.pods().inNamespace(ns).withLabel(PodLabels.ROLE, PodLabels.ROLE_TRAINER).list().getItems()
                            .stream().map(TrainerPodView::of).toList())
                            .as(() -> logs(started)).hasSize(3)
                            .allSatisfy(v -> {
                                assertThat(v.image()).isEqualTo(Images.TRAINER);
                                assertThat(v.readOnlyRoot()).isTrue();
                                assertThat(v.env()).doesNotContain(TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY,
                                        TrainerEnv.STORAGE_SESSION_TOKEN);
                                assertThat(v.baseModel()).isEqualTo(baseModel);
                                assertThat(v.outputs()).isNotEmpty();
                                assertThat(v.unsigned()).as("URLs without X-Amz-Signature").isEmpty();
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

    /**
     * What a trainer pod's spec says, with its presigned URLs reduced to whether they are signed (their query is the
     * signature: it must not reach a failure message).
     */
    private record TrainerPodView(String name, String image, Boolean readOnlyRoot, List<String> env, Map<String, String> baseModel,
                                  List<String> outputs, List<String> unsigned) {
        static TrainerPodView of(Pod pod) {
            Container c = pod.getSpec().getContainers().get(0);
            TrainTask task = ServerTaskPodBuilder.taskOf(pod, TrainTask.class).orElseThrow();
            PresignedAccess access = task.access();
            Map<String, String> urls = new LinkedHashMap<>();
            Map<String, String> baseModel = new LinkedHashMap<>();
            if (access != null) {
                Optional.ofNullable(access.baseModel()).orElse(Map.of()).forEach((name, get) -> {
                    urls.put("baseModel/" + name, get.url());
                    baseModel.put(name, get.sha256());
                });
                Optional.ofNullable(access.output()).orElse(Map.of()).forEach((name, url) -> urls.put("output/" + name, url));
            }
            return new TrainerPodView(pod.getMetadata().getName(), c.getImage(), c.getSecurityContext().getReadOnlyRootFilesystem(),
                    Optional.ofNullable(c.getEnv()).orElse(List.of()).stream().map(EnvVar::getName).toList(), baseModel,
                    access == null || access.output() == null ? List.of() : List.copyOf(access.output().keySet()),
                    urls.entrySet().stream().filter(e -> e.getValue() == null || !e.getValue().contains("X-Amz-Signature="))
                            .map(e -> e.getKey() + " " + PresignedAccess.redact(e.getValue())).toList());
        }
    }

    /** The chart's manifests with a signer for the quickstart run's storage endpoint, its keys in {@link #SIGNER_SECRET}. */
    private static Deployment renderedDeployment(String storageEndpoint) throws Exception {
        String manifests = new Helm(io.fedtune.strictapi.RenderableChart.of(Images.ROOT.resolve("charts/fedtune-operator"))).template()
                .withName("fedtune").withNamespace(NAMESPACE)
                .set("storageSigners[0].endpoint", storageEndpoint)
                .set("storageSigners[0].secretName", SIGNER_SECRET)
                .call();
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
