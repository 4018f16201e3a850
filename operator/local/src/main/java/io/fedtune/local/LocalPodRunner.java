package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
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
 * securityContext says (see {@link Bubblewrap}), as a {@link ContainerRuntime} prepares it, at most {@code slots} at
 * a time (the rest stay Pending, as on a full cluster), and reports phase, exit code and termination message back
 * through the API ({@link KubeletReport}). Deleting a pod kills its process. Without bubblewrap, pods run unconfined:
 * a warning at start and a Warning Event per pod say so.
 */
public final class LocalPodRunner implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LocalPodRunner.class);
    /** The Event reason on a pod that runs without confinement. */
    public static final String UNCONFINED_REASON = KubeletReport.UNCONFINED_REASON;

    private final KubernetesClient client;
    private final Path workRoot;
    private final Confinement confinement;
    private final ContainerRuntime runtime;
    private final KubeletReport report;
    private final ExecutorService slots;
    private final Set<String> admitted = ConcurrentHashMap.newKeySet();
    private final Map<String, Process> running = new ConcurrentHashMap<>();
    private SharedIndexInformer<Pod> informer;
    private volatile UnaryOperator<Pod> beforeRun = UnaryOperator.identity();

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
        this.workRoot = workRoot;
        this.runtime = new ContainerRuntime(client, podCommand);
        this.report = new KubeletReport(client);
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
                    kill(p);
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

    /**
     * A test's hook: the pod this kubelet runs is {@code change} applied to a copy of the pod the API holds, as a
     * mutating admission webhook would have made it (e.g. a small memory-backed scratch volume for one attempt). The API
     * object is left as it is. Identity by default.
     */
    public void changeBeforeRun(UnaryOperator<Pod> change) {
        this.beforeRun = change;
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
                report.pending(pod);
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
            TerminationMessage terminationMessage = new TerminationMessage(dir);
            Pod asRun = beforeRun.apply(new PodBuilder(pod).build());
            ContainerLaunch launch = runtime.launch(asRun, asRun.getSpec().getContainers().get(0), dir, terminationMessage);
            if (!confinement.confines()) {
                report.unconfined(pod, confinement.describe());
            }
            Process process = ChildProcesses.start(confinement.processFor(launch)
                    .redirectErrorStream(true)
                    .redirectOutput(logOf(ns, name).toFile()));
            running.put(key(pod), process);
            report.running(pod, container.getName(), started);
            int exit = process.waitFor();
            if (running.remove(key(pod)) == null) {
                return; // the pod was deleted and its process killed
            }
            String message = terminationMessage.read(container, exit, logOf(ns, name));
            report.terminated(pod, container.getName(), started, exit, message);
        } catch (PodCommand.UnrunnableContainer | MissingSecret e) {
            report.terminated(pod, container.getName(), started, 128, e.getMessage());
        } catch (IOException | UncheckedIOException e) {
            report.terminated(pod, container.getName(), started, 128, "could not start the process: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void kill(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
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
        running.values().forEach(LocalPodRunner::kill);
        running.clear();
    }
}
