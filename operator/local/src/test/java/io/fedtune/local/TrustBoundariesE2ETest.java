package io.fedtune.local;

import static io.fedtune.local.QuickstartRuns.isTrainer;
import static io.fedtune.local.QuickstartRuns.label;
import static io.fedtune.local.QuickstartRuns.layoutOf;
import static io.fedtune.local.QuickstartRuns.sha256;
import static io.fedtune.local.QuickstartRuns.smaller;
import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.PresignedAccess;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.contract.TrainTask;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.validation.CrdSchemaValidator;
import io.minio.MinioClient;
import io.minio.PutObjectArgs;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The trust boundaries of issue 11 end to end, on the same real parts as {@link QuickstartE2ETest} (s3proxy silos,
 * confined trainer processes, the operator process): what a trainer pod holds reaches only its own update, the result
 * is published to final/ with the recorded SHA-256, nothing secret reaches status, Events, logs or the report, and a
 * global adapter replaced in storage between rounds is refused by name.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrustBoundariesE2ETest {
    private static final String SIGNATURE = "X-Amz-Signature";

    private final HttpClient http = HttpClient.newHttpClient();
    private LocalCluster cluster;
    private QuickstartRuns runs;
    private int refusedBefore;

    @BeforeAll
    void startCluster() throws Exception {
        RepoLayout layout = RepoLayout.find();
        Path quickstart = layout.root().resolve("examples/quickstart");
        Path work = Files.createDirectories(layout.root().resolve("operator/local/target/e2e-trust"));
        int portShift = QuickstartRuns.PORT_SHIFT + 300;
        cluster = LocalCluster.start(layout, QuickstartRuns.languageModelingOnly(smaller(Manifests.load(quickstart), portShift)),
                new CrdSchemaValidator(),
                quickstart.resolve("data"), layout.baseModel(), work, 2);
        runs = QuickstartRuns.languageModelingOnly(cluster, quickstart, portShift);
        ConfinementRequired.check(cluster.pods().confinement());
    }

    @BeforeEach
    void countRefusals() {
        refusedBefore = cluster.api().refusals().size();
    }

    @AfterEach
    void nothingRefused() {
        List<String> refusals = cluster.api().refusals();
        assertThat(refusals.subList(refusedBefore, refusals.size())).as("requests the API server refused").isEmpty();
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aTrainerPodReachesOnlyItsOwnUpdateAndTheResultIsPublished() throws Exception {
        String ns = "e2e-trust";
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        FederatedRun run = runs.runToEnd(ns, namespace -> { });
        pods.close();
        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        MinioClient store = cluster.silo(run.getSpec().storage.endpoint).client();
        ObjectLayout layout = layoutOf(run);

        Pod trainer = pods.seen().stream().filter(QuickstartRuns::isTrainer)
                .filter(p -> "2".equals(label(p, PodLabels.ROUND)) && "Succeeded".equals(p.getStatus().getPhase()))
                .findFirst().orElseThrow();
        List<EnvVar> env = trainer.getSpec().getContainers().get(0).getEnv();
        assertThat(env).extracting(EnvVar::getName).as("a trainer pod holds no credential for the run's storage")
                .noneMatch(n -> n.startsWith("FEDTUNE_STORAGE_") && !n.equals(TrainerEnv.STORAGE_CA_FILE)
                        && !n.equals(TrainerEnv.STORAGE_RETRY_SECONDS))
                .noneMatch(n -> n.startsWith("AWS_"));
        TrainTask task = ContractJson.read(env.stream().filter(e -> TrainerEnv.TASK.equals(e.getName())).findFirst()
                .orElseThrow().getValue(), TrainTask.class);
        PresignedAccess access = task.access();
        String shard = task.shard();

        assertThat(access.baseModel().keySet()).as("GET for exactly the base model files the preparation recorded")
                .containsExactlyInAnyOrderElementsOf(run.getStatus().baseModel.stream().map(f -> f.name).toList());
        for (ModelFile f : run.getStatus().baseModel) {
            HttpResponse<byte[]> got = get(access.baseModel().get(f.name).url());
            assertThat(got.statusCode()).as("GET %s", f.name).isEqualTo(200);
            assertThat(sha256Of(got.body())).isEqualTo(f.sha256).isEqualTo(access.baseModel().get(f.name).sha256());
        }
        String weightsGet = access.globalAdapter().get("adapter_model.safetensors").url();
        assertThat(get(weightsGet).statusCode()).as("its round's global adapter").isEqualTo(200);

        String otherShard = run.getStatus().history.get(1).participants.stream().filter(s -> !s.equals(shard))
                .findFirst().orElseThrow();
        String otherUpdate = S3Uri.parse(layout.shardAdapter(2, otherShard, 1) + "/adapter_model.safetensors").key();
        assertThat(get(withKey(weightsGet, layout, otherUpdate)).statusCode())
                .as("another shard's update, with a URL whose key was edited").isEqualTo(403);
        String olderGlobal = S3Uri.parse(layout.globalAdapter(2) + "/adapter_model.safetensors").key();
        assertThat(get(withKey(weightsGet, layout, olderGlobal)).statusCode()).as("another global adapter").isEqualTo(403);
        assertThat(get(bucketListing(weightsGet, layout)).statusCode()).as("listing the bucket").isEqualTo(403);

        S3Uri global = S3Uri.parse(layout.globalAdapter(2) + "/adapter_model.safetensors");
        String globalSha = sha256(store, global);
        String ownPut = access.output().get("adapter_model.safetensors");
        assertThat(ownPut).contains(S3Uri.parse(task.output()).key());
        assertThat(put(withKey(ownPut, layout, global.key()), new byte[] {1, 2, 3}).statusCode())
                .as("writing the global adapter with its PUT URL's key edited").isEqualTo(403);
        String baseKey = S3Uri.parse(run.getSpec().baseModel.uri).key().replaceAll("/$", "") + "/model.safetensors";
        assertThat(put(withKey(ownPut, layout, baseKey), new byte[] {1, 2, 3}).statusCode())
                .as("writing the base model").isEqualTo(403);
        assertThat(sha256(store, global)).as("the global adapter is unchanged").isEqualTo(globalSha);
        assertThat(access.output().keySet()).allSatisfy(name ->
                assertThat(access.output().get(name)).contains(S3Uri.parse(task.output()).key() + "/" + name));

        var result = run.getStatus().result;
        assertThat(result).as("status.result").isNotNull();
        assertThat(result.uri).isEqualTo(layout.finalAdapter());
        assertThat(result.sha256).isEqualTo(run.getStatus().bestAdapter.sha256)
                .isEqualTo(sha256(store, S3Uri.parse(layout.finalAdapter() + "/adapter_model.safetensors")));
        assertThat(QuickstartRuns.keys(store, S3Uri.parse(layout.finalAdapter() + "/")))
                .anyMatch(k -> k.endsWith("/manifest.json")).anyMatch(k -> k.endsWith("/adapter_config.json"));

        for (String verb : List.of("get", "list", "watch")) {
            assertThat(cluster.api().operatorPolicy().allows(verb, "", "secrets", "", ""))
                    .as("the chart's ClusterRole lets the operator %s Secrets", verb).isFalse();
        }
        assertThat(cluster.api().operatorPolicy().rules()).as("no rule of the chart's ClusterRole names Secrets")
                .noneMatch(r -> r.getResources() != null && (r.getResources().contains("secrets") || r.getResources().contains("*")));

        Path report = RunReport.write(run, Map.of(), null, cluster, cluster.workDir().resolve("e2e-trust-report.html"));
        List<String> secrets = new ArrayList<>(List.of(SIGNATURE));
        cluster.silos().forEach(s -> secrets.add(s.secretKey()));
        String status = ContractJson.write(run.getStatus());
        String events = cluster.client().v1().events().inNamespace(ns).list().getItems().stream()
                .map(e -> e.getReason() + " " + e.getMessage()).collect(Collectors.joining("\n"));
        String logs = Files.readString(cluster.workDir().resolve("operator.log")) + Files.readString(report)
                + readTree(cluster.workDir().resolve("pods").resolve(ns));
        for (String secret : secrets) {
            assertThat(status).as("status").doesNotContain(secret);
            assertThat(events).as("events").doesNotContain(secret);
            assertThat(logs).as("the operator's and pods' logs and the report").doesNotContain(secret);
        }
    }

    @Test
    void aGlobalAdapterReplacedBetweenRoundsIsRefusedByNameAndNotTrainedOn() throws Exception {
        String ns = "e2e-tampered";
        AtomicBoolean tampered = new AtomicBoolean();
        cluster.pods().changeBeforeRun(p -> {
            if (ns.equals(p.getMetadata().getNamespace()) && isTrainer(p) && "2".equals(label(p, PodLabels.ROUND))) {
                once(tampered, () -> replaceRoundOneGlobal(ns));
            }
            return p;
        });
        try {
            FederatedRun run = runs.runToEnd(ns, namespace -> { });
            assertThat(tampered).isTrue();
            assertThat(run.getStatus().phase).as("no round-2 shard could train").isEqualTo(Phase.Failed);
            var round2 = run.getStatus().history.get(run.getStatus().history.size() - 1);
            assertThat(round2.round).isEqualTo(2);
            int shards = run.getStatus().history.get(0).participants.size();
            assertThat(round2.failedAttemptReasons).as("round 2's failures").containsEntry("InputTampered", shards);
            assertThat(round2.failedAttempts).as("InputTampered is permanent: one attempt per shard").isEqualTo(shards);
            assertThat(round2.participants).as("nothing trained on the replaced adapter").isEmpty();
            assertThat(run.getStatus().conditions).anySatisfy(c -> assertThat(c.getMessage()).contains("InputTampered"));
            assertThat(run.getStatus().result).as("nothing published").isNull();
        } finally {
            cluster.pods().changeBeforeRun(java.util.function.UnaryOperator.identity());
        }
    }

    @Test
    void aBaseModelFileReplacedAfterThePreparationIsRefusedByNameAndNotTrainedOn() throws Exception {
        String ns = "e2e-tampered-base";
        AtomicBoolean tampered = new AtomicBoolean();
        cluster.pods().changeBeforeRun(p -> {
            if (ns.equals(p.getMetadata().getNamespace()) && isTrainer(p)) {
                once(tampered, () -> {
                    FederatedRun run = runIn(ns);
                    flipLastByte(run, S3Uri.parse(run.getSpec().baseModel.uri.replaceAll("/$", "") + "/tokenizer.json"));
                });
            }
            return p;
        });
        try {
            FederatedRun run = runs.runToEnd(ns, namespace -> { });
            assertThat(tampered).isTrue();
            assertThat(run.getStatus().phase).as("no round-1 shard could train").isEqualTo(Phase.Failed);
            var round1 = run.getStatus().history.get(0);
            assertThat(round1.failedAttemptReasons).as("round 1's failures").containsOnlyKeys("InputTampered");
            assertThat(round1.participants).as("nothing trained on the replaced file").isEmpty();
            assertThat(run.getStatus().conditions).anySatisfy(c -> assertThat(c.getMessage()).contains("InputTampered"));
        } finally {
            cluster.pods().changeBeforeRun(java.util.function.UnaryOperator.identity());
        }
    }

    @Test
    void aShardUpdateReplacedBeforeTheAggregationIsRefusedByNameAndTheRunGoesOn() throws Exception {
        String ns = "e2e-tampered-update";
        AtomicBoolean tampered = new AtomicBoolean();
        String[] victim = new String[1];
        cluster.pods().changeBeforeRun(p -> {
            if (ns.equals(p.getMetadata().getNamespace()) && QuickstartRuns.isAggregator(p) && "1".equals(label(p, PodLabels.ROUND))) {
                once(tampered, () -> {
                    FederatedRun run = runIn(ns);
                    victim[0] = run.getStatus().roundShards.get(0);
                    flipLastByte(run, S3Uri.parse(layoutOf(run).shardAdapter(1, victim[0], 1) + "/adapter_model.safetensors"));
                });
            }
            return p;
        });
        try {
            FederatedRun run = runs.runToEnd(ns, namespace -> { });
            assertThat(tampered).isTrue();
            assertThat(run.getStatus().phase).as("the other shards' updates make the round").isEqualTo(Phase.Succeeded);
            var round1 = run.getStatus().history.get(0);
            assertThat(round1.participants).as("the replaced update is not averaged in").doesNotContain(victim[0]);
            assertThat(round1.refused).as("refused by name").anySatisfy(r -> {
                assertThat(r.shard).isEqualTo(victim[0]);
                assertThat(r.reason).isEqualTo("ChecksumMismatch");
            });
        } finally {
            cluster.pods().changeBeforeRun(java.util.function.UnaryOperator.identity());
        }
    }

    /** Runs the change before the first matching pod starts; pods starting meanwhile wait for it to be done. */
    private static void once(AtomicBoolean done, Runnable change) {
        synchronized (done) {
            if (!done.get()) {
                change.run();
                done.set(true);
            }
        }
    }

    private FederatedRun runIn(String ns) {
        return cluster.client().resources(FederatedRun.class).inNamespace(ns).list().getItems().get(0);
    }

    /** Replaces an object of the run's storage by the same bytes with the last one changed, as a tamperer would. */
    private void flipLastByte(FederatedRun run, S3Uri object) {
        try {
            MinioClient store = cluster.silo(run.getSpec().storage.endpoint).client();
            byte[] bytes;
            try (var in = store.getObject(io.minio.GetObjectArgs.builder().bucket(object.bucket()).object(object.key()).build())) {
                bytes = in.readAllBytes();
            }
            bytes[bytes.length - 1] ^= 0x01;
            store.putObject(PutObjectArgs.builder().bucket(object.bucket()).object(object.key())
                    .stream(new ByteArrayInputStream(bytes), bytes.length, -1).build());
        } catch (Exception e) {
            throw new IllegalStateException("could not replace " + object, e);
        }
    }

    private void replaceRoundOneGlobal(String ns) {
        FederatedRun run = runIn(ns);
        flipLastByte(run, S3Uri.parse(layoutOf(run).globalAdapter(1) + "/adapter_model.safetensors"));
    }

    private HttpResponse<byte[]> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    private HttpResponse<byte[]> put(String url, byte[] body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofByteArray());
    }

    /** The same signed query on another object of the run's bucket. */
    private static String withKey(String url, ObjectLayout layout, String key) {
        URI u = URI.create(url);
        return u.getScheme() + "://" + u.getRawAuthority() + "/" + layout.bucket() + "/" + key + "?" + u.getRawQuery();
    }

    /** The same signed query as a ListObjects request on the bucket. */
    private static String bucketListing(String url, ObjectLayout layout) {
        URI u = URI.create(url);
        return u.getScheme() + "://" + u.getRawAuthority() + "/" + layout.bucket() + "?list-type=2&" + u.getRawQuery();
    }

    private static String sha256Of(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String readTree(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return "";
        }
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.filter(Files::isRegularFile).filter(f -> f.toString().endsWith(".log")).toList()) {
                all.append(Files.readString(f));
            }
        }
        return all.toString();
    }
}
