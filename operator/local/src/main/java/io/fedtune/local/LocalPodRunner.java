package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fedtune.api.contract.TrainerEnv;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Plays the kubelet for the pods the operator creates: runs each pod's container as a local process, confined as its
 * securityContext says (see {@link Bubblewrap}), with the environment the image and the pod give it and nothing of
 * the runner's (Secret references resolved from the API), at most {@code slots} at a time (the rest stay Pending, as
 * on a full cluster), and reports phase, exit code and termination message back through the API. Deleting a pod
 * kills its process. Without bubblewrap, pods run unconfined: a warning at start and a Warning Event per pod say so.
 */
public final class LocalPodRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalPodRunner.class);
    /** The Event reason on a pod that runs without confinement. */
    public static final String UNCONFINED_REASON = "Unconfined";
    private static final String DEFAULT_TERMINATION_MESSAGE_PATH = "/dev/termination-log";
    /** What a kubelet keeps of a log when the termination message falls back to it. */
    private static final int LOG_TAIL_BYTES = 2048;

    private final KubernetesClient client;
    private final PodCommand podCommand;
    private final Path workRoot;
    private final Confinement confinement;
    private final ExecutorService slots;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();
    private final Map<String, Process> running = new ConcurrentHashMap<>();
    private SharedIndexInformer<Pod> informer;

    public LocalPodRunner(KubernetesClient client, PodCommand podCommand, Path workRoot, int slots) {
        this(client, podCommand, workRoot, slots, Confinement.detect(List.of(workRoot)));
    }

    /**
     * @param confinement how each container's process is started; it should hide workRoot (the pods' volumes) from
     *                    pods
     */
    public LocalPodRunner(KubernetesClient client, PodCommand podCommand, Path workRoot, int slots, Confinement confinement) {
        this.client = client;
        this.confinement = confinement;
        this.podCommand = podCommand;
        this.workRoot = workRoot;
        this.slots = Executors.newFixedThreadPool(slots, r -> {
            Thread t = new Thread(r, "local-kubelet");
            t.setDaemon(true);
            return t;
        });
    }

    public LocalPodRunner start() {
        if (confinement.confines()) {
            LOG.info(confinement.describe());
        } else {
            System.err.println("""

                    ************************************************************************************************
                    WARNING: fedtune local: %s
                    ************************************************************************************************
                    """.formatted(confinement.describe()));
        }
        informer = client.pods().inAnyNamespace().inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                admit(pod);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                admit(pod);
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown) {
                Process p = running.remove(key(pod));
                if (p != null) {
                    p.descendants().forEach(ProcessHandle::destroyForcibly);
                    p.destroyForcibly();
                }
            }
        });
        return this;
    }

    /** How this runner starts containers. */
    public Confinement confinement() {
        return confinement;
    }

    /** The process of a running pod, e.g. to kill it the way a node failure would. */
    public Optional<ProcessHandle> process(String namespace, String pod) {
        return Optional.ofNullable(running.get(namespace + "/" + pod)).map(Process::toHandle);
    }

    /** Log file of a pod's container. */
    public Path logOf(String namespace, String pod) {
        return workRoot.resolve(namespace).resolve(pod).resolve("container.log");
    }

    private void admit(Pod pod) {
        String phase = pod.getStatus() == null ? null : pod.getStatus().getPhase();
        if ((phase == null || "Pending".equals(phase)) && pod.getMetadata().getDeletionTimestamp() == null
                && admitted.add(pod.getMetadata().getUid())) {
            if (phase == null) {
                // An API server writes phase Pending on create; the mock leaves status empty.
                setStatus(pod, p -> {
                    p.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Pending").build());
                    return p;
                });
            }
            slots.submit(() -> {
                try {
                    run(pod);
                } catch (RuntimeException e) {
                    LOG.error("local kubelet failed on pod {}", key(pod), e);
                }
            });
        }
    }

    private void run(Pod pod) {
        String ns = pod.getMetadata().getNamespace();
        String name = pod.getMetadata().getName();
        Pod current = client.pods().inNamespace(ns).withName(name).get();
        if (current == null || !current.getMetadata().getUid().equals(pod.getMetadata().getUid())) {
            return; // deleted while it waited for a slot
        }
        var container = pod.getSpec().getContainers().get(0);
        Path dir = workRoot.resolve(ns).resolve(name);
        Instant started = Instant.now();
        try {
            Files.createDirectories(dir);
            Path terminationLog = dir.resolve("termination-log");
            ContainerLaunch launch = launch(pod, container, dir, terminationLog);
            if (!confinement.confines()) {
                warnUnconfined(pod);
            }
            Process process = confinement.processFor(launch)
                    .redirectErrorStream(true)
                    .redirectOutput(logOf(ns, name).toFile())
                    .start();
            running.put(key(pod), process);
            setStatus(pod, p -> running(p, container.getName(), started));
            int exit = process.waitFor();
            if (running.remove(key(pod)) == null) {
                return; // the pod was deleted and its process killed
            }
            String message = Files.exists(terminationLog) ? head(terminationLog) : "";
            if (message.isBlank() && exit != 0 && "FallbackToLogsOnError".equals(container.getTerminationMessagePolicy())) {
                message = tail(logOf(ns, name));
            }
            String finalMessage = message;
            setStatus(pod, p -> terminated(p, container.getName(), started, exit, finalMessage));
        } catch (PodCommand.UnrunnableContainer | MissingSecret e) {
            setStatus(pod, p -> terminated(p, container.getName(), started, 128, e.getMessage()));
        } catch (IOException | UncheckedIOException e) {
            setStatus(pod, p -> terminated(p, container.getName(), started, 128, "could not start the process: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The container as a runtime would start it: the image's entrypoint, only the environment a runtime, the image and
     * the pod give it, the user its securityContext (or image) says, its volumes, and its termination message file.
     */
    private ContainerLaunch launch(Pod pod, Container container, Path dir, Path terminationLog) throws IOException {
        List<String> command = podCommand.command(container);
        ContainerLaunch.RunAs user = ContainerLaunch.RunAs.of(pod, container, podCommand.imageUser());
        List<ContainerLaunch.Mount> mounts = volumes(pod, container, dir);
        // the kubelet makes the file world-writable so that any container user can write it
        Files.deleteIfExists(terminationLog);
        Files.createFile(terminationLog);
        Files.setPosixFilePermissions(terminationLog, PosixFilePermissions.fromString("rw-rw-rw-"));
        mounts.add(new ContainerLaunch.Mount(terminationLog, Optional.ofNullable(container.getTerminationMessagePath())
                .orElse(DEFAULT_TERMINATION_MESSAGE_PATH), false));
        // the image's own files stay where they are, read-only, even where they lie under a folder the runner
        // replaces (a checkout under /tmp, which every container gets fresh)
        podCommand.imageFiles().forEach(p -> mounts.add(new ContainerLaunch.Mount(p, p.toString(), true)));

        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", TrainerJarCommand.DEFAULT_PATH);
        env.put("HOSTNAME", pod.getMetadata().getName());
        env.put("HOME", "/"); // what a runtime sets for a user the image has no home for
        env.putAll(podCommand.imageEnvironment());
        env.putAll(environment(pod));
        String workingDir = Optional.ofNullable(container.getWorkingDir()).filter(w -> !w.isBlank())
                .or(podCommand::imageWorkingDir).orElse("/");
        boolean readOnlyRoot = container.getSecurityContext() != null
                && Boolean.TRUE.equals(container.getSecurityContext().getReadOnlyRootFilesystem());
        return new ContainerLaunch(pod.getMetadata().getName(), command, env, workingDir, user, readOnlyRoot, mounts, dir);
    }

    /**
     * The container's volumes as a kubelet makes them: an emptyDir is a fresh world-writable folder of the pod's, a
     * ConfigMap a read-only folder with one file per key.
     */
    private List<ContainerLaunch.Mount> volumes(Pod pod, Container container, Path dir) throws IOException {
        List<ContainerLaunch.Mount> mounts = new ArrayList<>();
        deleteRecursively(dir.resolve("volumes")); // a pod of the same name before this one left its own
        List<Volume> volumes = Optional.ofNullable(pod.getSpec().getVolumes()).orElse(List.of());
        for (VolumeMount mount : Optional.ofNullable(container.getVolumeMounts()).orElse(List.of())) {
            Volume volume = volumes.stream().filter(v -> v.getName().equals(mount.getName())).findFirst()
                    .orElseThrow(() -> new PodCommand.UnrunnableContainer("volume mount " + mount.getName() + " names no volume"));
            if (mount.getSubPath() != null && !mount.getSubPath().isEmpty()) {
                throw new PodCommand.UnrunnableContainer("volume mount " + mount.getName() + ": subPath is not supported locally");
            }
            Path local = dir.resolve("volumes").resolve(mount.getName());
            if (volume.getEmptyDir() != null) {
                Files.createDirectories(local);
                Files.setPosixFilePermissions(local, PosixFilePermissions.fromString("rwxrwxrwx"));
                mounts.add(new ContainerLaunch.Mount(local, mount.getMountPath(), Boolean.TRUE.equals(mount.getReadOnly())));
            } else if (volume.getConfigMap() != null) {
                String name = volume.getConfigMap().getName();
                var configMap = client.configMaps().inNamespace(pod.getMetadata().getNamespace()).withName(name).get();
                if (configMap == null) {
                    throw new MissingSecret("configmap \"" + name + "\" not found");
                }
                Files.createDirectories(local);
                if (configMap.getData() != null) {
                    for (var entry : configMap.getData().entrySet()) {
                        Files.writeString(local.resolve(entry.getKey()), entry.getValue(), StandardCharsets.UTF_8);
                    }
                }
                mounts.add(new ContainerLaunch.Mount(local, mount.getMountPath(), true));
            } else {
                throw new PodCommand.UnrunnableContainer("volume " + volume.getName()
                        + ": local mode mounts emptyDir and configMap volumes only");
            }
        }
        return mounts;
    }

    /** A kubelet reports what it does to a pod as Events; here, that the pod is not confined. */
    private void warnUnconfined(Pod pod) {
        String now = Instant.now().toString();
        try {
            client.v1().events().inNamespace(pod.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withName(pod.getMetadata().getName() + ".unconfined")
                    .withNamespace(pod.getMetadata().getNamespace()).endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion("v1").withKind("Pod")
                            .withName(pod.getMetadata().getName()).withNamespace(pod.getMetadata().getNamespace())
                            .withUid(pod.getMetadata().getUid()).build())
                    .withType("Warning").withReason(UNCONFINED_REASON).withMessage(confinement.describe())
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .withNewSource().withComponent("fedtune-local-kubelet").endSource()
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.debug("could not record the Unconfined event of pod {}: {}", pod.getMetadata().getName(), e.getMessage());
        }
    }

    private Map<String, String> environment(Pod pod) {
        Map<String, String> env = new LinkedHashMap<>();
        var container = pod.getSpec().getContainers().get(0);
        if (container.getEnv() == null) {
            return env;
        }
        for (EnvVar var : container.getEnv()) {
            if (var.getValueFrom() == null) {
                env.put(var.getName(), var.getValue() == null ? "" : var.getValue());
            } else if (var.getValueFrom().getSecretKeyRef() != null) {
                env.put(var.getName(), secretValue(pod.getMetadata().getNamespace(), var.getValueFrom().getSecretKeyRef()));
            } else if (var.getValueFrom().getFieldRef() != null) {
                String path = var.getValueFrom().getFieldRef().getFieldPath();
                env.put(var.getName(), switch (path) {
                    case "metadata.name" -> pod.getMetadata().getName();
                    case "metadata.namespace" -> pod.getMetadata().getNamespace();
                    case "metadata.uid" -> pod.getMetadata().getUid();
                    default -> "";
                });
            }
        }
        return env;
    }

    private String secretValue(String namespace, SecretKeySelector ref) {
        Secret secret = client.secrets().inNamespace(namespace).withName(ref.getName()).get();
        if (secret == null) {
            throw new MissingSecret("secret \"" + ref.getName() + "\" not found");
        }
        if (secret.getData() != null && secret.getData().containsKey(ref.getKey())) {
            return new String(Base64.getDecoder().decode(secret.getData().get(ref.getKey())), StandardCharsets.UTF_8);
        }
        if (secret.getStringData() != null && secret.getStringData().containsKey(ref.getKey())) {
            return secret.getStringData().get(ref.getKey());
        }
        throw new MissingSecret("couldn't find key " + ref.getKey() + " in Secret " + namespace + "/" + ref.getName());
    }

    private void setStatus(Pod pod, UnaryOperator<Pod> change) {
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).editStatus(change);
        } catch (KubernetesClientException e) {
            if (e.getCode() != 404) {
                LOG.warn("could not update status of pod {}: {}", pod.getMetadata().getName(), e.getMessage());
            }
        }
    }

    private static Pod running(Pod pod, String container, Instant started) {
        if (pod.getStatus() == null) {
            pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
        }
        pod.getStatus().setPhase("Running");
        pod.getStatus().setStartTime(started.toString());
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder()
                .withName(container).withReady(true).withStarted(true).withRestartCount(0)
                .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(started.toString()).endRunning().build())
                .build()));
        return pod;
    }

    private static Pod terminated(Pod pod, String container, Instant started, int exitCode, String message) {
        if (pod.getStatus() == null) {
            pod.setStatus(new io.fabric8.kubernetes.api.model.PodStatus());
        }
        pod.getStatus().setPhase(exitCode == 0 ? "Succeeded" : "Failed");
        pod.getStatus().setStartTime(started.toString());
        pod.getStatus().setContainerStatuses(java.util.List.of(new ContainerStatusBuilder()
                .withName(container).withReady(false).withStarted(false).withRestartCount(0)
                .withState(new ContainerStateBuilder().withNewTerminated()
                        .withExitCode(exitCode)
                        .withReason(exitCode == 0 ? "Completed" : "Error")
                        .withMessage(message)
                        .withStartedAt(started.toString())
                        .withFinishedAt(Instant.now().toString())
                        .endTerminated().build())
                .build()));
        return pod;
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (var files = Files.walk(dir)) {
            for (Path f : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    private static String head(Path file) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        int n = Math.min(bytes.length, TrainerEnv.TERMINATION_MESSAGE_LIMIT);
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }

    private static String tail(Path file) throws IOException {
        if (!Files.exists(file)) {
            return "";
        }
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "r")) {
            long start = Math.max(0, raf.length() - LOG_TAIL_BYTES);
            byte[] bytes = new byte[(int) (raf.length() - start)];
            raf.seek(start);
            raf.readFully(bytes);
            return new String(bytes, StandardCharsets.UTF_8);
        }
    }

    private static String key(Pod pod) {
        return pod.getMetadata().getNamespace() + "/" + pod.getMetadata().getName();
    }

    @Override
    public void close() {
        if (informer != null) {
            informer.close();
        }
        slots.shutdownNow();
        running.values().forEach(p -> {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        });
        running.clear();
    }

    /** A Secret or key a pod references is missing; a kubelet reports CreateContainerConfigError. */
    static final class MissingSecret extends RuntimeException {
        MissingSecret(String message) {
            super(message);
        }
    }
}
