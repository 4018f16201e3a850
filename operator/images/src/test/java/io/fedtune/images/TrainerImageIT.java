package io.fedtune.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.AggregateResult;
import io.fedtune.api.contract.AggregateTask;
import io.fedtune.api.contract.ObjectLayout;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PublishResult;
import io.fedtune.api.contract.PublishTask;
import io.fedtune.api.contract.ShardUpdate;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.ClientShard;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.TrainerPodBuilder;
import io.minio.GetObjectArgs;
import io.minio.StatObjectArgs;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The CPU trainer image, built from trainer-image/Dockerfile, runs one round of the quickstart exactly as its pods do:
 * the pods come from the operator's own TrainerPodBuilder and AggregationPodBuilder with the operator's default image,
 * and run under their security context (user 10001 from the image, read-only root, only the emptyDir /scratch
 * writable, capabilities dropped), their env (Secrets resolved), the task ConfigMap and the termination message file;
 * their results are read back as the operator reads them (PodOutcome) and checked against the objects in the silos.
 * Like the operator, the round starts from the preparation pod's record of the base model (the trainer pods get only
 * presigned URLs for it, no run-storage credential) and the result is published to final/ by the publishing pod.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerImageIT {
    private static final String ADAPTER_WEIGHTS = "adapter_model.safetensors";
    private static final String ADAPTER_CONFIG = "adapter_config.json";
    private static final Duration POD_TIMEOUT = Duration.ofMinutes(5);
    private QuickstartSilos quickstart;
    private PodmanKubelet kubelet;
    private Path work;

    @BeforeAll
    void start() throws Exception {
        Images.trainer();
        work = Files.createDirectories(Images.ROOT.resolve("operator/images/target/it/trainer"));
        quickstart = QuickstartSilos.start(work, 2);
        FederatedRunSpec spec = quickstart.run.getSpec();
        spec.training.steps = 8;
        spec.training.maxSequenceLength = 64;
        kubelet = new PodmanKubelet(work.resolve("pods"), quickstart.secrets, List.of());
    }

    @AfterAll
    void stop() {
        if (quickstart != null) {
            quickstart.close();
        }
    }

    @Test
    void theOperatorsDefaultTrainerImageIsTheOneTheBuildMakes() throws IOException {
        assertThat(operatorDefaultTrainerImage()).isEqualTo(Images.TRAINER);
        // a kubelet can only check runAsNonRoot against a numeric user
        assertThat(PodmanKubelet.imageUser(Images.TRAINER)).isEqualTo("10001:10001");
    }

    @Test
    void jnaLoadsItsNativeLibraryFromTheImageUnderThePodsConfinement() throws Exception {
        Pod pod = new TrainerPodBuilder(Images.TRAINER, quickstart.signers).build(quickstart.run, new FederatedRunStatus(), quickstart.shards.get(0), 1, 1);
        PodmanKubelet.Finished probe = kubelet.run(JnaProbe.pod(pod), POD_TIMEOUT);
        assertThat(probe.exitCode()).as(Files.readString(probe.log())).isZero();
        assertThat(Files.readString(probe.log())).contains("jnidispatch /app/native/libjnidispatch.so")
                // the image preloads tcmalloc for libtorch's tensors (trainer-image/Dockerfile)
                .containsPattern("malloc /usr/lib/[^ ]*libtcmalloc_minimal\\.so\\.4");
    }

    @Test
    void oneRoundTrainsAndAggregatesInsideTheImageAsItsPodsRunIt() throws Exception {
        var run = quickstart.run;
        String image = operatorDefaultTrainerImage();
        ObjectLayout layout = TrainerPodBuilder.layout(run);
        // as the operator does before round 1: the preparation pod records every base model file's SHA-256
        FederatedRunStatus status = Preparation.prepare(kubelet, run, image, POD_TIMEOUT);
        TrainerPodBuilder trainers = new TrainerPodBuilder(image, quickstart.signers);
        List<ShardUpdate> updates = new ArrayList<>();
        for (ClientShard shard : quickstart.shards) {
            String name = shard.getMetadata().getName();
            Pod pod = trainers.build(run, status, shard, 1, 1);
            Preparation.assertNoRunStorageCredential(pod);
            PodmanKubelet.Finished done = kubelet.run(pod, POD_TIMEOUT);
            System.out.printf("image tier: trainer pod %s ran in the image in %.1f s%n", pod.getMetadata().getName(), done.seconds());
            PodOutcome outcome = PodOutcome.of(done.pod());
            assertThat(outcome.state()).as(done.terminationMessage() + "\n" + Files.readString(done.log()))
                    .isEqualTo(PodOutcome.State.SUCCEEDED);
            TrainResult result = outcome.trainResult();
            assertThat(result.outcome()).isEqualTo(Outcome.Succeeded);
            assertThat(result.adapter()).isEqualTo(layout.shardAdapter(1, name, 1));
            assertThat(result.evalLossAfter()).isFinite().isLessThan(result.evalLossBefore());
            // written through presigned PUTs, which carry no sha256 metadata (CONTRACT.md): the stored bytes are hashed
            assertThat(contentSha256(result.adapter() + "/adapter_model.safetensors")).isEqualTo(result.sha256());
            assertThat(contentSha256(result.adapter() + "/manifest.json")).isNotBlank();
            assertNothingNativeIn(done);
            updates.add(new ShardUpdate(name, result.adapter(), result.sha256(), result.samples(), shard.getSpec().weight,
                    result.rank()));
        }

        FederatedRunSpec spec = run.getSpec();
        // as the operator's TrainShards starts a round's aggregation
        AggregateTask task = new AggregateTask(run.getMetadata().getName(), run.getMetadata().getNamespace(), 1, 1,
                new StorageRef(spec.storage.endpoint, spec.storage.region), spec.baseModel.uri, spec.baseModel.sha256,
                ModelFile.sha256ByName(status.baseModel), null, null, null, updates, spec.lora, spec.aggregation,
                layout.optimizerState(), null, spec.evaluation.datasets, spec.training.maxSequenceLength, spec.training.seed, 1.0,
                layout.globalAdapter(1));
        AggregationPodBuilder.AggregationPod aggregation = new AggregationPodBuilder(image).build(run, task);
        PodmanKubelet aggregator = new PodmanKubelet(work.resolve("pods"), quickstart.secrets, List.of(aggregation.task()));
        PodmanKubelet.Finished done = aggregator.run(aggregation.pod(), POD_TIMEOUT);
        System.out.printf("image tier: aggregation pod %s ran in the image in %.1f s%n",
                aggregation.pod().getMetadata().getName(), done.seconds());
        PodOutcome outcome = PodOutcome.of(done.pod());
        assertThat(outcome.state()).as(done.terminationMessage() + "\n" + Files.readString(done.log()))
                .isEqualTo(PodOutcome.State.SUCCEEDED);
        AggregateResult result = outcome.aggregateResult();
        assertThat(result.accepted()).containsExactly("shard-a", "shard-b");
        assertThat(result.refused()).isNullOrEmpty();
        assertThat(result.adapter()).isEqualTo(layout.globalAdapter(1));
        assertThat(storedSha256(result.adapter() + "/adapter_model.safetensors")).isEqualTo(result.sha256());
        assertThat(result.evalLosses()).containsOnlyKeys(spec.evaluation.datasets.stream().map(d -> d.name).toArray(String[]::new));
        assertThat(result.evalLoss()).isFinite().isPositive();
        // every set scored by its task in the image, the primary by its ranking metric
        assertThat(result.evalMetric()).isEqualTo(spec.evaluation.datasets.get(0).rankingMetric().name());
        assertThat(result.evalScore()).isEqualTo(result.evalScores().get(spec.evaluation.datasets.get(0).name).get(result.evalMetric()));
        for (io.fedtune.api.v1alpha1.EvalDataset set : spec.evaluation.datasets) {
            assertThat(result.evalScores().get(set.name)).as(set.name)
                    .containsOnlyKeys(set.task.metrics().stream().map(Enum::name).toArray(String[]::new));
        }
        assertNothingNativeIn(done);

        publishes(result, image);
    }

    /** As the operator's publishing step after the last round: the best adapter is copied to final/, verified. */
    private void publishes(AggregateResult best, String image) throws Exception {
        var run = quickstart.run;
        FederatedRunSpec spec = run.getSpec();
        String destination = TrainerPodBuilder.layout(run).finalAdapter();
        assertThat(best.configSha256()).as("the aggregation records its adapter_config.json").isNotBlank();
        PublishTask task = new PublishTask(run.getMetadata().getName(), run.getMetadata().getNamespace(), 1,
                new StorageRef(spec.storage.endpoint, spec.storage.region), best.adapter(), best.round(),
                Map.of(ADAPTER_WEIGHTS, best.sha256(), ADAPTER_CONFIG, best.configSha256()), best.evalLoss(), spec.baseModel.uri,
                destination, null);
        Pod pod = new AggregationPodBuilder(image).serverTasks().publish(run, task);
        PodmanKubelet.Finished done = kubelet.run(pod, POD_TIMEOUT);
        System.out.printf("image tier: publishing pod %s ran in the image in %.1f s%n", pod.getMetadata().getName(), done.seconds());
        PodOutcome outcome = PodOutcome.of(done.pod());
        assertThat(outcome.state()).as(done.terminationMessage() + "\n" + Files.readString(done.log()))
                .isEqualTo(PodOutcome.State.SUCCEEDED);
        PublishResult published = outcome.publishResult();
        assertThat(published.outcome()).isEqualTo(Outcome.Succeeded);
        assertThat(published.adapter()).isEqualTo(destination);
        assertThat(published.sha256()).isEqualTo(best.sha256());
        assertThat(published.files()).containsEntry(ADAPTER_WEIGHTS, best.sha256()).containsEntry(ADAPTER_CONFIG, best.configSha256())
                .containsKey("manifest.json");
        for (var file : published.files().entrySet()) {
            String uri = destination + "/" + file.getKey();
            assertThat(contentSha256(uri)).as("final/" + file.getKey()).isEqualTo(file.getValue());
            assertThat(storedSha256(uri)).as("final/" + file.getKey() + "'s sha256 metadata").isEqualTo(file.getValue());
        }
    }

    /** Every native library was unpacked at build time: none lands in the pod's only writable volume. */
    private static void assertNothingNativeIn(PodmanKubelet.Finished done) throws IOException {
        for (Path dir : done.emptyDirs().values()) {
            try (Stream<Path> files = Files.walk(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".so") || n.contains(".so.")))
                        .as("native libraries unpacked into the pod's emptyDir " + dir).isEmpty();
            }
        }
    }

    private String storedSha256(String uri) throws Exception {
        String path = uri.replaceFirst("^s3://", "");
        var stat = quickstart.runStorage.client().statObject(StatObjectArgs.builder()
                .bucket(path.substring(0, path.indexOf('/'))).object(path.substring(path.indexOf('/') + 1)).build());
        return stat.userMetadata().get("sha256");
    }

    /** The SHA-256 of an object's bytes as stored, read back from the run storage. */
    private String contentSha256(String uri) throws Exception {
        String path = uri.replaceFirst("^s3://", "");
        try (InputStream in = quickstart.runStorage.client().getObject(GetObjectArgs.builder()
                .bucket(path.substring(0, path.indexOf('/'))).object(path.substring(path.indexOf('/') + 1)).build())) {
            return Preparation.sha256(in);
        }
    }

    static String operatorDefaultTrainerImage() throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(Images.ROOT.resolve("operator/controller/src/main/resources/application.properties"))) {
            p.load(in);
        }
        return p.getProperty("fedtune.trainer.image");
    }
}
