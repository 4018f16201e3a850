package io.fedtune.local;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretKeySelector;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.fedtune.api.contract.TrainerEnv;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
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
 * Plays the kubelet for the pods the operator creates: runs each pod's container as a local process with the pod's
 * environment (Secret references resolved from the API), at most {@code slots} at a time (the rest stay Pending, as
 * on a full cluster), and reports phase, exit code and termination message back through the API. Deleting a pod
 * kills its process.
 */
public final class LocalPodRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalPodRunner.class);
    /** What a kubelet keeps of a log when the termination message falls back to it. */
    private static final int LOG_TAIL_BYTES = 2048;

    private final KubernetesClient client;
    private final PodCommand podCommand;
    private final Path workRoot;
    private final ExecutorService slots;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();
    private final Map<String, Process> running = new ConcurrentHashMap<>();
    private SharedIndexInformer<Pod> informer;

    public LocalPodRunner(KubernetesClient client, PodCommand podCommand, Path workRoot, int slots) {
        this.client = client;
        this.podCommand = podCommand;
        this.workRoot = workRoot;
        this.slots = Executors.newFixedThreadPool(slots, r -> {
            Thread t = new Thread(r, "local-kubelet");
            t.setDaemon(true);
            return t;
        });
    }

    public LocalPodRunner start() {
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
            Files.createDirectories(dir.resolve("scratch"));
            Path terminationLog = dir.resolve("termination-log");
            ProcessBuilder builder = new ProcessBuilder(podCommand.command(container))
                    .redirectErrorStream(true)
                    .redirectOutput(logOf(ns, name).toFile())
                    .directory(dir.toFile());
            Map<String, String> env = builder.environment();
            env.putAll(podCommand.imageEnvironment());
            env.putAll(environment(pod));
            env.put(TrainerEnv.TERMINATION_LOG, terminationLog.toString());
            env.put(TrainerEnv.WORK_DIR, dir.resolve("scratch").toString());
            mountConfigMaps(pod, dir, env);
            Process process = builder.start();
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
        } catch (IOException e) {
            setStatus(pod, p -> terminated(p, container.getName(), started, 128, "could not start the process: " + e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * ConfigMap volumes (the aggregation task) as a kubelet would mount them: each key written to a file under the pod's
     * directory, and environment values that point into the mount path pointed there instead.
     */
    private void mountConfigMaps(Pod pod, Path dir, Map<String, String> env) throws IOException {
        var container = pod.getSpec().getContainers().get(0);
        for (var mount : container.getVolumeMounts() == null ? List.<io.fabric8.kubernetes.api.model.VolumeMount>of() : container.getVolumeMounts()) {
            var volume = pod.getSpec().getVolumes().stream().filter(v -> v.getName().equals(mount.getName()) && v.getConfigMap() != null)
                    .findFirst();
            if (volume.isEmpty()) {
                continue;
            }
            String name = volume.get().getConfigMap().getName();
            var configMap = client.configMaps().inNamespace(pod.getMetadata().getNamespace()).withName(name).get();
            if (configMap == null) {
                throw new MissingSecret("configmap \"" + name + "\" not found");
            }
            Path local = dir.resolve("volumes").resolve(mount.getName());
            Files.createDirectories(local);
            if (configMap.getData() != null) {
                for (var entry : configMap.getData().entrySet()) {
                    Files.writeString(local.resolve(entry.getKey()), entry.getValue(), StandardCharsets.UTF_8);
                }
            }
            env.replaceAll((k, v) -> v != null && (v.equals(mount.getMountPath()) || v.startsWith(mount.getMountPath() + "/"))
                    ? local + v.substring(mount.getMountPath().length()) : v);
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
