package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static io.fedtune.local.QuickstartRuns.condition;
import static io.fedtune.local.QuickstartRuns.keys;
import static io.fedtune.local.QuickstartRuns.label;
import static io.fedtune.local.QuickstartRuns.layoutOf;
import static io.fedtune.local.QuickstartRuns.sha256;
import static io.fedtune.local.QuickstartRuns.smaller;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.S3Uri;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.Phase;
import io.fedtune.operator.pods.PodLabels;
import io.fedtune.operator.validation.CrdSchemaValidator;
import io.minio.MinioClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

/**
 * End to end on one machine, through real parts: the quickstart's manifests (made smaller), s3proxy silos, the
 * in-process API server, trainer processes from the trainer jar and the operator process from its Quarkus build.
 * Each test runs the quickstart in its own namespace; assertions read status and the objects in the store. Pods run
 * confined as their securityContext says (uid 10001, read-only root, only their volumes writable); without bubblewrap
 * the tests are skipped, and fail in CI.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class QuickstartE2ETest {
    private static final int ROUNDS = QuickstartRuns.ROUNDS;

    private RepoLayout layout;
    private LocalCluster cluster;
    private Path quickstart;
    private QuickstartRuns runs;
    private String uninterruptedSha;
    private int refusedBefore;

    @BeforeAll
    void startCluster() throws Exception {
        layout = RepoLayout.find();
        quickstart = layout.root().resolve("examples/quickstart");
        Path work = Files.createDirectories(layout.root().resolve("operator/local/target/e2e"));
        cluster = LocalCluster.start(layout, smaller(Manifests.load(quickstart)), new CrdSchemaValidator(),
                quickstart.resolve("data"), layout.baseModel(), work, 2);
        runs = new QuickstartRuns(cluster, quickstart, QuickstartRuns.PORT_SHIFT);
        // a pod that only works with the runner's privileges, environment or writable disk must fail here too
        ConfinementRequired.check(cluster.pods().confinement());
    }

    /** A request the strict API server refused (the operator's RBAC, an invalid object) fails the test it happened in. */
    @org.junit.jupiter.api.BeforeEach
    void countRefusals() {
        refusedBefore = cluster.api().refusals().size();
    }

    @org.junit.jupiter.api.AfterEach
    void nothingRefused() {
        List<String> refusals = cluster.api().refusals();
        assertThat(refusals.subList(refusedBefore, refusals.size())).as("requests the API server refused").isEmpty();
        assertThat(cluster.api().operatorPermissions()).as("the operator is authorized as its service account")
                .contains("patch federatedruns.fedtune.io", "create pods");
    }

    @AfterAll
    void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    @Order(1)
    void quickstartRunsToSuccessWithAdaptersInTheStoreAndShardDataOnlyInItsSilo() throws Exception {
        FederatedRun run = runs.runToEnd("e2e-full", ns -> { });

        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertThat(condition(run, "Succeeded")).isEqualTo("True");
        assertThat(run.getStatus().history).hasSize(ROUNDS);
        assertThat(run.getStatus().history).allSatisfy(r -> assertThat(r.participants).isNotEmpty());
        // every eval set scored by its task in every round, each participant's local evaluation beside it
        var sets = run.getSpec().evaluation.datasets;
        assertThat(sets).extracting(d -> d.task).contains(io.fedtune.api.v1alpha1.EvalTask.MultipleChoice,
                io.fedtune.api.v1alpha1.EvalTask.Generation);
        assertThat(run.getStatus().history).allSatisfy(r -> {
            assertThat(r.evalMetric).isEqualTo(sets.get(0).rankingMetric().name());
            for (var set : sets) {
                assertThat(r.evalScores.get(set.name)).as("round %d, %s", r.round, set.name)
                        .containsOnlyKeys(set.task.metrics().stream().map(Enum::name).toArray(String[]::new))
                        .allSatisfy((metric, v) -> assertThat(v).isFinite());
            }
            assertThat(r.localEvals).extracting(e -> e.shard).containsExactlyInAnyOrderElementsOf(r.participants);
            assertThat(r.localEvals).allSatisfy(e -> assertThat(List.of(e.global, e.local)).allSatisfy(v -> assertThat(v).isFinite()));
        });
        assertThat(run.getStatus().bestAdapter.evalMetric).isEqualTo("Loss");

        var best = run.getStatus().bestAdapter;
        MinioClient runStore = cluster.silo(run.getSpec().storage.endpoint).client();
        S3Uri adapter = S3Uri.parse(best.uri + "/adapter_model.safetensors");
        assertThat(sha256(runStore, adapter)).isEqualTo(best.sha256);

        ObjectLayout objects = layoutOf(run);
        // the published result carries its model card: who trained it, how, and the eval table
        String card = QuickstartRuns.text(runStore, S3Uri.parse(run.getStatus().result.uri + "/README.md"));
        assertThat(card).contains("library_name: peft", "shard-a, shard-b, shard-c", "FedAvg", "--lora-modules",
                "PeftModel.from_pretrained");
        for (var set : sets) {
            assertThat(card).contains("| " + set.name + " | " + set.task + " |");
        }
        for (int round = 1; round <= ROUNDS; round++) {
            assertThat(keys(runStore, S3Uri.parse(objects.round(round) + "/shards/")))
                    .as("round %d shard adapters", round)
                    .anyMatch(k -> k.endsWith("adapter_model.safetensors"))
                    .noneMatch(k -> k.endsWith(".jsonl"));
        }
        for (ClientShard shard : smaller(Manifests.load(quickstart)).shards()) {
            String dataEndpoint = shard.getSpec().data.endpoint;
            assertThat(dataEndpoint).as("each shard keeps its data in its own silo").isNotEqualTo(run.getSpec().storage.endpoint);
        }
        uninterruptedSha = best.sha256;

        Path report = RunReport.write(run, Map.of(), null, cluster, cluster.workDir().resolve("e2e-full-report.html"));
        assertThat(Files.readString(report)).contains("<svg").contains("e2e-full");
    }

    @Test
    @Order(2)
    void aTrainerKilledMidRoundIsRetriedAndTheRunSucceeds() throws Exception {
        String ns = "e2e-killed";
        List<String> killed = new ArrayList<>();
        PodRecorder pods = PodRecorder.watch(cluster.client(), ns);
        FederatedRun run = runs.runToEnd(ns, namespace -> {
            Pod trainer = runs.awaitPod(namespace, p -> PodLabels.ROLE_TRAINER.equals(label(p, PodLabels.ROLE))
                    && "1".equals(label(p, PodLabels.ATTEMPT)) && "Running".equals(p.getStatus().getPhase()));
            ProcessHandle process = cluster.pods().process(namespace, trainer.getMetadata().getName()).orElseThrow();
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            killed.add(label(trainer, PodLabels.SHARD));
        });

        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        String shard = killed.get(0);
        pods.close();
        assertThat(pods.seen()).filteredOn(p -> shard.equals(label(p, PodLabels.SHARD)) && "1".equals(label(p, PodLabels.ROUND)))
                .as("the killed trainer failed and a second attempt succeeded")
                .anyMatch(p -> "Failed".equals(p.getStatus().getPhase()))
                .anyMatch(p -> "2".equals(label(p, PodLabels.ATTEMPT)) && "Succeeded".equals(p.getStatus().getPhase()));
        assertThat(run.getStatus().history.get(0).participants).contains(shard);
    }

    @Test
    @Order(3)
    void theOperatorKilledMidRunIsRestartedAndFinishesWithTheSameAdapterAsAnUninterruptedRun() throws Exception {
        PodRecorder pods = PodRecorder.watch(cluster.client(), "e2e-restart");
        int restartsBefore = cluster.operator().restarts();
        FederatedRun run = runs.runToEnd("e2e-restart", namespace -> {
            runs.awaitPod(namespace, p -> "2".equals(label(p, PodLabels.ROUND)) && PodLabels.ROLE_TRAINER.equals(label(p, PodLabels.ROLE)));
            // as kill -9 would: nobody starts another; local mode's OperatorDeployment must
            cluster.operator().process().orElseThrow().destroyForcibly();
        });

        assertThat(run.getStatus().phase).isEqualTo(Phase.Succeeded);
        assertThat(cluster.operator().restarts()).as("operator restarts").isEqualTo(restartsBefore + 1);
        assertThat(run.getStatus().history).extracting(r -> r.round).containsExactly(1, 2);
        pods.close();
        assertThat(pods.seen()).filteredOn(p -> PodLabels.ROLE_AGGREGATOR.equals(label(p, PodLabels.ROLE)))
                .as("one aggregation per round, none repeated after the restart")
                .extracting(p -> label(p, PodLabels.ROUND)).containsExactlyInAnyOrder("1", "2");
        assertThat(uninterruptedSha).as("needs the uninterrupted run first").isNotNull();
        assertThat(run.getStatus().bestAdapter.sha256).isEqualTo(uninterruptedSha);
    }

    @Test
    @Order(4)
    void anInvalidResourceIsRefusedAtApplyAndNothingStarts() throws Exception {
        Manifests manifests = smaller(Manifests.load(quickstart));
        manifests.runs().get(0).getSpec().lora.rank = 0;
        manifests.shards().get(0).getSpec().data.train.uri = "https://not-s3/train.jsonl";

        assertThatThrownBy(() -> LocalCluster.refuseInvalid(manifests, new CrdSchemaValidator()))
                .isInstanceOf(InvalidManifests.class)
                .satisfies(e -> assertThat(((InvalidManifests) e).problems())
                        .anyMatch(p -> p.contains("spec.lora.rank"))
                        .anyMatch(p -> p.contains("spec.data.train.uri")));
    }
}
