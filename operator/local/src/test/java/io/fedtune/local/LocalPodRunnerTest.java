package io.fedtune.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fedtune.api.contract.TrainerEnv;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local kubelet against the embedded API server, with `sh -c` standing in for an image's entrypoint. Pods run
 * confined where bubblewrap is installed; the tests of confinement itself are skipped where it is not (failed in CI).
 */
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
    /** A script line that reports whether a file could be written: "name=written" or "name=refused". */
    private static final String TRY_WRITE = "try() { if (echo x > \"$2\") 2>/dev/null; then echo \"$1=written\"; else echo \"$1=refused\"; fi; }; ";

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

    @Test
    void theContainerGetsNoneOfTheRunnersEnvironment() {
        assertThat(System.getenv("DJL_CACHE_DIR")).as("set for this test JVM by the module's surefire configuration").isNotNull();
        create("env", "shell", "env > \"$" + TrainerEnv.TERMINATION_LOG + "\"");

        Map<String, String> seen = Arrays.stream(message(awaitPhase("env", "Succeeded")).split("\n"))
                .filter(l -> l.contains("=")).collect(Collectors.toMap(l -> l.substring(0, l.indexOf('=')),
                        l -> l.substring(l.indexOf('=') + 1), (a, b) -> b));

        // a runtime's PATH, HOSTNAME and HOME; the image's ENV; the pod's env; what sh itself sets
        Set<String> expected = Set.of("PATH", "HOSTNAME", "HOME", "FROM_IMAGE", "SECRET", TrainerEnv.TERMINATION_LOG,
                "PWD", "SHLVL", "_", "OLDPWD");
        assertThat(seen.keySet()).isSubsetOf(expected);
        assertThat(seen).doesNotContainKeys("DJL_CACHE_DIR", "JAVA_HOME", "MAVEN_OPTS", "USER");
        assertThat(seen).containsEntry("PATH", TrainerJarCommand.DEFAULT_PATH).containsEntry("HOSTNAME", "env")
                .containsEntry("HOME", "/");
    }

    @Test
    void aContainerThatMustNotRunAsRootFailsBeforeItStartsWhenNothingNamesAUser() {
        create("root", "shell", "echo started > \"$" + TrainerEnv.TERMINATION_LOG + "\"",
                p -> p.editSpec().withNewSecurityContext().withRunAsNonRoot(true).endSecurityContext().endSpec());

        Pod pod = awaitPhase("root", "Failed");
        assertThat(message(pod)).contains("container has runAsNonRoot and image will run as root").doesNotContain("started");
    }

    @Test
    void withoutConfinementPodsStillRunAndAWarningEventSaysTheyAreUnconfined() throws Exception {
        runner.close();
        runner = new LocalPodRunner(client, SHELL, work, 1, new Unconfined("bubblewrap is left out by this test")).start();
        create("plain", "shell", "echo done > \"$" + TrainerEnv.TERMINATION_LOG + "\"");

        awaitPhase("plain", "Succeeded");
        assertThat(client.v1().events().inNamespace("ns").list().getItems())
                .anyMatch(e -> LocalPodRunner.UNCONFINED_REASON.equals(e.getReason()) && "Warning".equals(e.getType())
                        && "plain".equals(e.getInvolvedObject().getName()) && e.getMessage().contains("UNCONFINED"));
    }

    @Test
    void aConfinedContainerRunsAsItsSecurityContextSaysInItsWorkingDirectory() throws Exception {
        ConfinementRequired.check(runner.confinement());
        taskConfigMap();
        create("who", "shell", "printf '%s|%s|%s|%s|%s|%s' \"$(id -u)\" \"$(id -g)\" \"$(id -G)\" \"$(pwd)\" \"$(hostname)\""
                        + " \"$(cat /etc/fedtune/task/task.json)\" > /dev/termination-log; echo kept > /scratch/out",
                p -> withTask(restricted(p)).editSpec()
                        .editFirstContainer().withWorkingDir("/scratch").editSecurityContext().withRunAsUser(10001L)
                        .withRunAsGroup(10002L).endSecurityContext().endContainer()
                        .editOrNewSecurityContext().withSupplementalGroups(10003L).endSecurityContext().endSpec());

        Pod pod = awaitPhase("who", "Succeeded");
        assertThat(message(pod)).isEqualTo("10001|10002|10002 10003|/scratch|who|{\"round\":1}");
        Path out = work.resolve("ns/who/volumes/scratch/out");
        assertThat(Files.readString(out)).as("what the pod wrote is readable by the runner afterwards").isEqualTo("kept\n");
        assertThat(Files.getAttribute(out, "unix:uid")).isEqualTo(10001);
    }

    @Test
    void aConfinedContainerWritesOnlyItsVolumesEvenAsRootAndSeesNoOtherPodsFiles() throws Exception {
        ConfinementRequired.check(runner.confinement());
        // a folder this machine lets anyone write: only the read-only root keeps the pod out
        Path open = Files.createDirectories(Path.of("target", "confinement-open").toAbsolutePath());
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.deleteIfExists(open.resolve("probe"));
        Files.createDirectories(work.resolve("ns/other-pod/volumes/scratch"));
        Files.writeString(work.resolve("ns/other-pod/volumes/scratch/adapter"), "another shard's update");
        taskConfigMap();
        String script = TRY_WRITE
                + "{ try root /probe; try tmp /tmp/probe; try home \"$HOME/probe\"; try open " + open + "/probe;"
                + " try runner " + work + "/probe; try taskfile /etc/fedtune/task/task.json; try scratch /scratch/probe;"
                + " echo \"task=$(cat /etc/fedtune/task/task.json)\"; echo \"others=$(ls -A " + work + " | wc -l)\";"
                + " echo \"uid=$(id -u)\"; } > /dev/termination-log";
        create("writer", "shell", script, p -> withTask(restricted(p)));

        Map<String, String> tried = lines(message(awaitPhase("writer", "Succeeded")));
        assertThat(tried).containsEntry("uid", "0")
                .containsEntry("root", "refused").containsEntry("tmp", "refused").containsEntry("home", "refused")
                .containsEntry("open", "refused").containsEntry("runner", "refused").containsEntry("taskfile", "refused")
                .containsEntry("scratch", "written").containsEntry("task", "{\"round\":1}").containsEntry("others", "0");
        assertThat(Files.readString(work.resolve("ns/writer/volumes/task/task.json"))).isEqualTo("{\"round\":1}");
        assertThat(open.resolve("probe")).doesNotExist();
        assertThat(work.resolve("probe")).doesNotExist();
        assertThat(work.resolve("ns/writer/volumes/scratch/probe")).exists();
    }

    @Test
    void aConfinedContainerThatReadsTheWorkingDirOfTheImageCannotWriteThere() throws Exception {
        ConfinementRequired.check(runner.confinement());
        // a working directory that is not a volume: made for the container, read-only like the rest of its root
        create("cwd", "shell", TRY_WRITE + "{ echo \"pwd=$(pwd)\"; try cwd ./probe; } > /dev/termination-log",
                p -> restricted(p).editSpec().editFirstContainer().withWorkingDir("/srv/fedtune-cwd/deeper")
                        .editSecurityContext().withRunAsUser(10001L).endSecurityContext().endContainer().endSpec());

        Map<String, String> seen = lines(message(awaitPhase("cwd", "Succeeded")));
        assertThat(seen).containsEntry("pwd", "/srv/fedtune-cwd/deeper").containsEntry("cwd", "refused");
        assertThat(Path.of("/srv/fedtune-cwd")).as("made inside the sandbox, not on this machine").doesNotExist();
    }

    @Test
    void aMemoryBackedEmptyDirIsATmpfsCappedAtItsSizeLimitAndAHookCanMakeOne() throws Exception {
        ConfinementRequired.check(runner.confinement());
        // the pod in the API has a disk-backed scratch; the hook gives this one pod a 64 KiB memory-backed one
        runner.changeBeforeRun(p -> !"small".equals(p.getMetadata().getName()) ? p : new PodBuilder(p).editSpec()
                .editMatchingVolume(v -> "scratch".equals(v.getName())).editEmptyDir().withMedium("Memory")
                .withSizeLimit(new io.fabric8.kubernetes.api.model.Quantity("64Ki")).endEmptyDir().endVolume().endSpec().build());
        String script = "{ if err=$(head -c 200000 /dev/zero 2>&1 > /scratch/big); then echo big=written; "
                + "else echo big=refused; fi; echo \"err=$err\"; "
                + "echo \"size=$(df -k /scratch | tail -1 | awk '{print $2}')\"; } > /dev/termination-log";
        create("small", "shell", script, LocalPodRunnerTest::restricted);

        Map<String, String> seen = lines(message(awaitPhase("small", "Succeeded")));
        assertThat(seen).containsEntry("big", "refused").containsEntry("size", "64");
        assertThat(seen.get("err")).contains("No space left on device");
        assertThat(client.pods().inNamespace("ns").withName("small").get().getSpec().getVolumes().get(0).getEmptyDir().getMedium())
                .as("the API's pod is unchanged").isNull();

        create("large", "shell", script, LocalPodRunnerTest::restricted);
        assertThat(lines(message(awaitPhase("large", "Succeeded")))).containsEntry("big", "written");
    }

    /** The restricted pod the operator makes: read-only root, an emptyDir at /scratch, no privileges. */
    private static PodBuilder restricted(PodBuilder pod) {
        return pod.editSpec()
                .addNewVolume().withName("scratch").withNewEmptyDir().endEmptyDir().endVolume()
                .editFirstContainer()
                .addNewVolumeMount().withName("scratch").withMountPath("/scratch").endVolumeMount()
                .withNewSecurityContext().withReadOnlyRootFilesystem(true).withAllowPrivilegeEscalation(false)
                .withNewCapabilities().withDrop("ALL").endCapabilities().endSecurityContext()
                .endContainer().endSpec();
    }

    private void taskConfigMap() {
        client.resource(new ConfigMapBuilder().withNewMetadata().withName("task").withNamespace("ns").endMetadata()
                .withData(Map.of("task.json", "{\"round\":1}")).build()).create();
    }

    /** The aggregation pod's task volume: a ConfigMap at a path this machine does not have. */
    private static PodBuilder withTask(PodBuilder pod) {
        return pod.editSpec()
                .addNewVolume().withName("task").withNewConfigMap().withName("task").endConfigMap().endVolume()
                .editFirstContainer().addNewVolumeMount().withName("task").withMountPath("/etc/fedtune/task").withReadOnly(true)
                .endVolumeMount().endContainer().endSpec();
    }

    private void create(String name, String image, String script) {
        create(name, image, script, p -> p);
    }

    private void create(String name, String image, String script, UnaryOperator<PodBuilder> change) {
        PodBuilder pod = new PodBuilder().withNewMetadata().withName(name).withNamespace("ns").addToLabels("app", "x").endMetadata()
                .withNewSpec().addNewContainer().withName("main").withImage(image).withArgs(script)
                .withTerminationMessagePolicy("FallbackToLogsOnError")
                .withTerminationMessagePath("/dev/termination-log")
                .addNewEnv().withName("SECRET").withNewValueFrom().withNewSecretKeyRef("key", "creds", false).endValueFrom().endEnv()
                .addNewEnv().withName(TrainerEnv.TERMINATION_LOG).withValue("/dev/termination-log").endEnv()
                .endContainer().withRestartPolicy("Never").endSpec();
        change.apply(pod);
        client.resource(pod.build()).create();
    }

    private Pod awaitPhase(String name, String phase) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> client.pods().inNamespace("ns").withName(name).get(),
                p -> p.getStatus() != null && phase.equals(p.getStatus().getPhase()));
    }

    private static String message(Pod pod) {
        return pod.getStatus().getContainerStatuses().get(0).getState().getTerminated().getMessage();
    }

    private static Map<String, String> lines(String message) {
        Map<String, String> out = new HashMap<>();
        for (String line : message.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                out.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return out;
    }
}
