package io.fedtune.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.ContractJson;
import io.fedtune.api.contract.Outcome;
import io.fedtune.api.contract.PrepareResult;
import io.fedtune.api.contract.PrepareTask;
import io.fedtune.api.contract.StorageRef;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.FederatedRun;
import io.fedtune.api.v1alpha1.FederatedRunSpec;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.api.v1alpha1.ModelFile;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * The run's preparation as the operator's PrepareBaseModel step makes it (ServerTaskPodBuilder.prepare with the
 * PrepareTask it builds): what the quickstart's base model files are, and the status the operator records from the
 * preparation pod's PrepareResult, from which every trainer pod's presigned base model URLs are made.
 */
final class Preparation {
    /** The shipped base model's files that {@link QuickstartSilos} seeds (trainer-image/base-model). */
    static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json");
    static final Path BASE_MODEL = Images.ROOT.resolve("trainer-image/base-model");

    private Preparation() {
    }

    /** The task of the run's first preparation attempt, as PrepareBaseModel builds it. */
    static PrepareTask task(FederatedRun run) {
        FederatedRunSpec spec = run.getSpec();
        return new PrepareTask(run.getMetadata().getName(), run.getMetadata().getNamespace(), 1,
                new StorageRef(spec.storage.endpoint, spec.storage.region), spec.baseModel.uri, spec.baseModel.sha256);
    }

    static Pod pod(FederatedRun run, String image) {
        return new AggregationPodBuilder(image).serverTasks().prepare(run, task(run));
    }

    /** Each base model file with its SHA-256 and size, computed here from the files the silos were seeded with. */
    static List<ModelFile> expectedFiles() throws IOException {
        List<ModelFile> files = new ArrayList<>();
        for (String name : FILES) {
            Path file = BASE_MODEL.resolve(name);
            files.add(new ModelFile(name, sha256(file), Files.size(file)));
        }
        return files;
    }

    /**
     * Runs the preparation pod in {@code image}, checks that its PrepareResult lists exactly the base model's files
     * with their SHA-256, and returns the status the operator records from it (status.baseModel).
     */
    static FederatedRunStatus prepare(PodmanKubelet kubelet, FederatedRun run, String image, Duration timeout) throws IOException {
        Pod pod = pod(run, image);
        PodmanKubelet.Finished done = kubelet.run(pod, timeout);
        System.out.printf("image tier: preparation pod %s ran in the image in %.1f s%n", pod.getMetadata().getName(), done.seconds());
        PodOutcome outcome = PodOutcome.of(done.pod());
        assertThat(outcome.state()).as(done.terminationMessage() + "\n" + Files.readString(done.log()))
                .isEqualTo(PodOutcome.State.SUCCEEDED);
        PrepareResult result = outcome.prepareResult();
        assertThat(result.outcome()).isEqualTo(Outcome.Succeeded);
        assertFilesAreTheBaseModels(result.files());
        FederatedRunStatus status = new FederatedRunStatus();
        status.baseModel = new ArrayList<>(result.files());
        return status;
    }

    static void assertFilesAreTheBaseModels(List<ModelFile> files) throws IOException {
        assertThat(files).as("the base model files the preparation reports")
                .extracting(f -> f.name, f -> f.sha256, f -> f.size)
                .containsExactlyInAnyOrderElementsOf(expectedFiles().stream().map(f -> tuple(f.name, f.sha256, f.size)).toList());
    }

    /** The termination message of a preparation pod that found the base model's files: what a kubelet reports. */
    static String succeededMessage() throws IOException {
        return ContractJson.write(new PrepareResult(Outcome.Succeeded, null, null, expectedFiles(), 0.1, "off"));
    }

    /** A trainer pod holds no run-storage credential: no FEDTUNE_STORAGE_* key in its env, plain or from a Secret. */
    static void assertNoRunStorageCredential(Pod trainer) {
        assertThat(trainer.getSpec().getContainers()).allSatisfy(c -> assertThat(
                Optional.ofNullable(c.getEnv()).orElse(List.of()).stream().map(EnvVar::getName))
                .as("env of trainer pod %s", trainer.getMetadata().getName())
                .doesNotContain(TrainerEnv.STORAGE_ACCESS_KEY, TrainerEnv.STORAGE_SECRET_KEY, TrainerEnv.STORAGE_SESSION_TOKEN));
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in);
        }
    }

    static String sha256(InputStream in) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        new DigestInputStream(in, digest).transferTo(OutputStream.nullOutputStream());
        return HexFormat.of().formatHex(digest.digest());
    }
}
