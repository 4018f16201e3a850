package io.fedtune.local;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.EventBuilder;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodStatus;
import io.fabric8.kubernetes.api.model.PodStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What the local kubelet reports back through the API about a pod: its phase and container status, and Events. */
final class KubeletReport {
    private static final Logger LOG = LoggerFactory.getLogger(KubeletReport.class);
    /** The Event reason on a pod that runs without confinement. */
    static final String UNCONFINED_REASON = "Unconfined";

    private final KubernetesClient client;

    KubeletReport(KubernetesClient client) {
        this.client = client;
    }

    /** An API server writes phase Pending on create; the mock leaves status empty. */
    void pending(Pod pod) {
        setStatus(pod, p -> {
            p.setStatus(new PodStatusBuilder().withPhase("Pending").build());
            return p;
        });
    }

    void running(Pod pod, String container, Instant started) {
        setStatus(pod, p -> {
            PodStatus status = statusOf(p);
            status.setPhase("Running");
            status.setStartTime(started.toString());
            status.setContainerStatuses(List.of(new ContainerStatusBuilder()
                    .withName(container).withReady(true).withStarted(true).withRestartCount(0)
                    .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(started.toString()).endRunning().build())
                    .build()));
            return p;
        });
    }

    void terminated(Pod pod, String container, Instant started, int exitCode, String message) {
        setStatus(pod, p -> {
            PodStatus status = statusOf(p);
            status.setPhase(exitCode == 0 ? "Succeeded" : "Failed");
            status.setStartTime(started.toString());
            status.setContainerStatuses(List.of(new ContainerStatusBuilder()
                    .withName(container).withReady(false).withStarted(false).withRestartCount(0)
                    .withState(new ContainerStateBuilder().withNewTerminated()
                            .withExitCode(exitCode)
                            .withReason(exitCode == 0 ? "Completed" : "Error")
                            .withMessage(message)
                            .withStartedAt(started.toString())
                            .withFinishedAt(Instant.now().toString())
                            .endTerminated().build())
                    .build()));
            return p;
        });
    }

    /** A Warning Event that the pod is not confined; {@code how} says how it runs instead. */
    void unconfined(Pod pod, String how) {
        String now = Instant.now().toString();
        try {
            client.v1().events().inNamespace(pod.getMetadata().getNamespace()).resource(new EventBuilder()
                    .withNewMetadata().withName(pod.getMetadata().getName() + ".unconfined")
                    .withNamespace(pod.getMetadata().getNamespace()).endMetadata()
                    .withInvolvedObject(new ObjectReferenceBuilder().withApiVersion("v1").withKind("Pod")
                            .withName(pod.getMetadata().getName()).withNamespace(pod.getMetadata().getNamespace())
                            .withUid(pod.getMetadata().getUid()).build())
                    .withType("Warning").withReason(UNCONFINED_REASON).withMessage(how)
                    .withFirstTimestamp(now).withLastTimestamp(now).withCount(1)
                    .withNewSource().withComponent("fedtune-local-kubelet").endSource()
                    .build()).create();
        } catch (KubernetesClientException e) {
            LOG.debug("could not record the Unconfined event of pod {}: {}", pod.getMetadata().getName(), e.getMessage());
        }
    }

    private static PodStatus statusOf(Pod pod) {
        if (pod.getStatus() == null) {
            pod.setStatus(new PodStatus());
        }
        return pod.getStatus();
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
}
