package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.operator.pods.PodLabels;
import java.net.HttpURLConnection;

/** RunPods through the Kubernetes API. */
public final class KubernetesRunPods implements RunPods {
    private final KubernetesClient client;

    public KubernetesRunPods(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public void create(Pod pod) {
        try {
            client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create();
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
        }
    }

    @Override
    public void delete(Pod pod) {
        client.pods().inNamespace(pod.getMetadata().getNamespace()).withName(pod.getMetadata().getName()).delete();
    }

    @Override
    public void deleteAllOf(String namespace, String run) {
        client.pods().inNamespace(namespace).withLabel(PodLabels.RUN, run).delete();
    }
}
