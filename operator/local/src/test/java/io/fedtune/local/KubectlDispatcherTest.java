package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.Phase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded API server answers discovery and table requests the way kubectl needs. */
class KubectlDispatcherTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private EmbeddedApiServer api;

    @BeforeEach
    void start() throws Exception {
        api = EmbeddedApiServer.start(RepoLayout.find().crds(), OperatorProcess.freePort());
        FederatedRun run = new FederatedRun();
        run.setMetadata(new ObjectMetaBuilder().withName("demo").withNamespace("team").build());
        run.setSpec(new io.fedtune.api.v1alpha1.FederatedRunSpec());
        run.getSpec().rounds = 10;
        api.client().resource(run).create();
        FederatedRunStatus status = new FederatedRunStatus();
        status.phase = Phase.Running;
        status.progress = "3/10";
        status.conditions.add(new ConditionBuilder().withType("Ready").withStatus("True").withReason("Running").build());
        run = api.client().resources(FederatedRun.class).inNamespace("team").withName("demo").get();
        run.setStatus(status);
        api.client().resource(run).updateStatus();
    }

    @AfterEach
    void stop() {
        api.close();
    }

    @Test
    void discoveryListsTheFedtuneResourcesWithShortNamesAndCategory() throws Exception {
        JsonNode groups = get("/apis", "application/json");
        assertThat(groups.findValuesAsText("name")).contains("fedtune.io");

        JsonNode resources = get("/apis/fedtune.io/v1alpha1", "application/json");
        JsonNode runs = find(resources.get("resources"), "federatedruns");
        assertThat(runs.get("kind").asText()).isEqualTo("FederatedRun");
        assertThat(runs.get("namespaced").asBoolean()).isTrue();
        assertThat(runs.get("shortNames").toString()).contains("frun");
        assertThat(runs.get("categories").toString()).contains("fedtune");
    }

    @Test
    void listsComeBackAsTablesWithThePrinterColumns() throws Exception {
        JsonNode table = get("/apis/fedtune.io/v1alpha1/namespaces/team/federatedruns",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json");

        assertThat(table.get("kind").asText()).isEqualTo("Table");
        List<String> names = new ArrayList<>();
        table.get("columnDefinitions").forEach(c -> names.add(c.get("name").asText()));
        assertThat(names).startsWith("Name", "Phase", "Round").endsWith("Age");
        JsonNode cells = table.get("rows").get(0).get("cells");
        assertThat(cells.get(0).asText()).isEqualTo("demo");
        assertThat(cells.get(names.indexOf("Phase")).asText()).isEqualTo("Running");
        assertThat(cells.get(names.indexOf("Round")).asText()).isEqualTo("3/10");
        assertThat(cells.get(names.indexOf("Age")).asText()).matches("\\d+s");
    }

    @Test
    void eventsAreSelectedByTheirInvolvedObject() throws Exception {
        for (String name : List.of("demo", "other")) {
            api.client().v1().events().inNamespace("team").resource(new io.fabric8.kubernetes.api.model.EventBuilder()
                    .withNewMetadata().withName(name + ".1").withNamespace("team").endMetadata()
                    .withNewInvolvedObject().withKind("FederatedRun").withName(name).withNamespace("team").endInvolvedObject()
                    .withReason("RoundStarted").withType("Normal").withMessage("round 1 of " + name).build()).create();
        }

        JsonNode events = get("/api/v1/namespaces/team/events?fieldSelector="
                + java.net.URLEncoder.encode("involvedObject.name=demo,involvedObject.kind=FederatedRun", "UTF-8"), "application/json");

        assertThat(events.get("kind").asText()).isEqualTo("EventList");
        assertThat(events.get("items")).hasSize(1);
        assertThat(events.get("items").get(0).get("message").asText()).isEqualTo("round 1 of demo");
    }

    @Test
    void aRealKubectlGetsTheRun(@TempDir Path tmp) throws Exception {
        assumeTrue(onPath("kubectl"), "kubectl is not installed");
        Path kubeconfig = api.writeKubeconfig(tmp.resolve("kubeconfig"));
        Process kubectl = new ProcessBuilder("kubectl", "--kubeconfig", kubeconfig.toString(), "get", "frun", "-n", "team")
                .redirectErrorStream(true).start();
        String out = new String(kubectl.getInputStream().readAllBytes());

        assertThat(kubectl.waitFor()).as(out).isZero();
        assertThat(out).contains("PHASE").contains("ROUND").contains("demo").contains("Running").contains("3/10");
    }

    private JsonNode get(String path, String accept) throws Exception {
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(api.url() + path))
                .header("Accept", accept).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    private static JsonNode find(JsonNode resources, String name) {
        for (JsonNode r : resources) {
            if (name.equals(r.get("name").asText())) {
                return r;
            }
        }
        throw new AssertionError(name + " not in " + resources);
    }

    private static boolean onPath(String command) {
        return java.util.Arrays.stream(System.getenv("PATH").split(":")).anyMatch(d -> java.nio.file.Files.isExecutable(Path.of(d, command)));
    }
}
