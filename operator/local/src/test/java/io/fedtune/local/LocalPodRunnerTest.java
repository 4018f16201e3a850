package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.contract.TrainerEnv;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The local kubelet against the embedded API server, with `sh -c` standing in for an image's entrypoint. */
class LocalPodRunnerTest {
    /** Runs the container's first arg as a shell script. */
    private static final PodCommand SHELL = new PodCommand() {
        @Override
        public List<String> command(Container c) {
            if (!"shell".equals(c.getImage())) {
                throw new UnrunnableContainer("image " + c.getImage() + " cannot run locally");
            }
            return List.of("sh", "-c", c.getArgs().get(0));
        }

        @Override
        public Map<String, String> imageEnvironment() {
            return Map.of("FROM_IMAGE", "yes");
        }
    };

    @TempDir
    Path work;
    private EmbeddedApiServer api;
    private LocalPodRunner runner;
    private KubernetesClient client;

    @BeforeEach
    void start() throws Exception {
        api = EmbeddedApiServer.start(RepoLayout.find().crds(), OperatorProcess.freePort());
        client = api.client();
        runner = new LocalPodRunner(client, SHELL, work, 1).start();
        client.resource(new SecretBuilder().withNewMetadata().withName("creds").withNamespace("ns").endMetadata()
                .withStringData(Map.of("key", "s3cr3t")).build()).create();
    }

    @AfterEach
    void stop() {
        runner.close();
        api.close();
    }

    @Test
    void runsThePodWithItsEnvironmentAndReportsTheTerminationMessage() throws Exception {
        var phases = new java.util.concurrent.CopyOnWriteArrayList<String>();
        var watch = client.pods().inNamespace("ns").withLabel("app", "x").inform(new io.fabric8.kubernetes.client.informers.ResourceEventHandler<>() {
            public void onAdd(Pod p) { phases.add(p.getStatus() == null ? null : p.getStatus().getPhase()); }
            public void onUpdate(Pod o, Pod p) { phases.add(p.getStatus().getPhase()); }
            public void onDelete(Pod p, boolean u) { }
        });
        create("ok", "shell", "printf '{\"v\":\"%s/%s\"}' \"$SECRET\" \"$FROM_IMAGE\" > \"$" + TrainerEnv.TERMINATION_LOG + "\"");

        Pod pod = awaitPhase("ok", "Succeeded");
        var terminated = pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
        assertThat(terminated.getExitCode()).isZero();
        assertThat(terminated.getMessage()).isEqualTo("{\"v\":\"s3cr3t/yes\"}");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(phases).contains("Succeeded"));
        watch.close();
    }

    @Test
    void aFailingContainerFallsBackToItsLogTailAndFails() {
        create("bad", "shell", "echo 'out of memory' ; exit 3");

        Pod pod = awaitPhase("bad", "Failed");
        var terminated = pod.getStatus().getContainerStatuses().get(0).getState().getTerminated();
        assertThat(terminated.getExitCode()).isEqualTo(3);
        assertThat(terminated.getMessage()).contains("out of memory");
    }

    @Test
    void anImageThatCannotRunHereFailsThePodSayingWhy() {
        create("alien", "nginx:1.27", "true");

        Pod pod = awaitPhase("alien", "Failed");
        assertThat(pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getMessage())
                .contains("nginx:1.27 cannot run locally");
    }

    @Test
    void podsBeyondTheSlotsStayPendingAndDeletingAPodKillsItsProcess() {
        create("long", "shell", "sleep 600");
        create("queued", "shell", "true");
        awaitPhase("long", "Running");
        assertThat(client.pods().inNamespace("ns").withName("queued").get().getStatus().getPhase()).isEqualTo("Pending");
        ProcessHandle process = runner.process("ns", "long").orElseThrow();

        client.pods().inNamespace("ns").withName("long").delete();

        await().atMost(Duration.ofSeconds(20)).until(() -> !process.isAlive());
        awaitPhase("queued", "Succeeded");
    }

    private void create(String name, String image, String script) {
        client.resource(new PodBuilder().withNewMetadata().withName(name).withNamespace("ns").addToLabels("app", "x").endMetadata()
                .withNewSpec().addNewContainer().withName("main").withImage(image).withArgs(script)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .addNewEnv().withName("SECRET").withNewValueFrom().withNewSecretKeyRef("key", "creds", false).endValueFrom().endEnv()
                .endContainer().withRestartPolicy("Never").endSpec().build()).create();
    }

    private Pod awaitPhase(String name, String phase) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace("ns").withName(name).get(),
                p -> p.getStatus() != null && phase.equals(p.getStatus().getPhase()));
    }
}
