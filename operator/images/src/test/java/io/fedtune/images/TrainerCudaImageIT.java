package io.fedtune.images;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fedtune.api.contract.TrainResult;
import io.fedtune.api.v1alpha1.FederatedRunStatus;
import io.fedtune.operator.pods.PodOutcome;
import io.fedtune.operator.pods.TrainerPodBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * trainer-image/Dockerfile.cuda as CI can build it: every step of it, on the Debian JRE base instead of nvidia/cuda
 * and with the CPU libtorch in the place of the CUDA one (the 2.46 GB CUDA jar is never in CI). The same pod runs it
 * (read-only root, /scratch only), so its classpath, the PYTORCH_LIBRARY_PATH override, the JNI bridge and tokenizers
 * unpacked at build time, and JNA are checked; a GPU and the CUDA libtorch are not.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainerCudaImageIT {
    private QuickstartSilos quickstart;
    private PodmanKubelet kubelet;

    @BeforeAll
    void start() throws Exception {
        Images.trainerCudaStandIn();
        Path work = Files.createDirectories(Images.ROOT.resolve("operator/images/target/it/trainer-cuda"));
        quickstart = QuickstartSilos.start(work, 1);
        quickstart.run.getSpec().training.steps = 4;
        quickstart.run.getSpec().training.maxSequenceLength = 64;
        kubelet = new PodmanKubelet(work.resolve("pods"), quickstart.secrets, List.of());
    }

    @AfterAll
    void stop() {
        if (quickstart != null) {
            quickstart.close();
        }
    }

    @Test
    void jnaLoadsItsNativeLibraryFromTheImageUnderThePodsConfinement() throws Exception {
        Pod pod = new TrainerPodBuilder(Images.TRAINER_CUDA_STANDIN, quickstart.signers).build(quickstart.run, new FederatedRunStatus(), quickstart.shards.get(0), 1, 1);
        PodmanKubelet.Finished probe = kubelet.run(JnaProbe.pod(pod), Duration.ofMinutes(2));
        // without it DJL counts no GPU (CudaUtils loads cudart through JNA) and trains on the CPU
        assertThat(Files.readString(probe.log())).contains("jnidispatch /app/native/libjnidispatch.so")
                // the image preloads tcmalloc for libtorch's tensors (trainer-image/Dockerfile)
                .containsPattern("malloc /usr/lib/[^ ]*libtcmalloc_minimal\\.so\\.4");
        assertThat(probe.exitCode()).isZero();
    }

    @Test
    void aTrainerPodRunsTheCudaImageWithNothingUnpackedInThePod() throws Exception {
        assertThat(PodmanKubelet.imageUser(Images.TRAINER_CUDA_STANDIN)).isEqualTo("10001:10001");
        FederatedRunStatus status = Preparation.prepare(kubelet, quickstart.run, Images.TRAINER_CUDA_STANDIN, Duration.ofMinutes(2));
        Pod pod = new TrainerPodBuilder(Images.TRAINER_CUDA_STANDIN, quickstart.signers).build(quickstart.run, status,
                quickstart.shards.get(0), 1, 1);
        Preparation.assertNoRunStorageCredential(pod);
        PodmanKubelet.Finished done = kubelet.run(pod, Duration.ofMinutes(5));
        System.out.printf("image tier: trainer pod %s ran in the CUDA image (CPU stand-in) in %.1f s%n",
                pod.getMetadata().getName(), done.seconds());
        PodOutcome outcome = PodOutcome.of(done.pod());
        assertThat(outcome.state()).as(done.terminationMessage() + "\n" + Files.readString(done.log()))
                .isEqualTo(PodOutcome.State.SUCCEEDED);
        TrainResult result = outcome.trainResult();
        assertThat(result.evalLossAfter()).isFinite();
        for (Path dir : done.emptyDirs().values()) {
            try (Stream<Path> files = Files.walk(dir)) {
                assertThat(files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".so") || n.contains(".so.")))
                        .as("libtorch, the JNI bridge and tokenizers come from the image, not unpacked per pod").isEmpty();
            }
        }
    }
}
