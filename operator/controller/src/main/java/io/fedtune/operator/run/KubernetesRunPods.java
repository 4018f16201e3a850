package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fedtune.operator.pods.AggregationPodBuilder;
import io.fedtune.operator.pods.PodLabels;
import java.net.HttpURLConnection;
import java.util.Optional;

/** RunPods through the Kubernetes API. */
public final class KubernetesRunPods implements RunPods {
    private final KubernetesClient client;

    public KubernetesRunPods(KubernetesClient client) {
        this.client = client;
    }

    @Override
    public void create(Pod pod) {
        unlessItExists(() -> client.pods().inNamespace(pod.getMetadata().getNamespace()).resource(pod).create());
    }

    @Override
    public void create(ConfigMap configMap) {
        unlessItExists(() -> client.configMaps().inNamespace(configMap.getMetadata().getNamespace()).resource(configMap).create());
    }

    /** AlreadyExists is success: the name is the idempotency key. Any other refusal goes up to the reconcile. */
    private static void unlessItExists(Runnable create) {
        try {
            create.run();
        } catch (KubernetesClientException e) {
            if (e.getCode() != HttpURLConnection.HTTP_CONFLICT) {
                throw e;
            }
        }
    }

    @Override
    public Optional<ConfigMap> configMap(String namespace, String name) {
        return Optional.ofNullable(client.configMaps().inNamespace(namespace).withName(name).get());
    }

    @Override
    public void delete(Pod pod) {
        String namespace = pod.getMetadata().getNamespace();
        // the ConfigMap first: if the pod's deletion then fails, the next reconcile deletes both again (a no-op for the first)
        AggregationPodBuilder.taskConfigMap(pod).ifPresent(name -> client.configMaps().inNamespace(namespace).withName(name).delete());
        client.pods().inNamespace(namespace).withName(pod.getMetadata().getName()).delete();
    }

    @Override
    public void deleteAllOf(String namespace, String run) {
        client.pods().inNamespace(namespace).withLabel(PodLabels.RUN, PodLabels.value(run)).delete();
        client.configMaps().inNamespace(namespace).withLabel(PodLabels.RUN, PodLabels.value(run)).delete();
    }
}
