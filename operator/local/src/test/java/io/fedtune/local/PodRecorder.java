package io.fedtune.local;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Every pod of a namespace as last seen, deleted ones included: the operator cleans pods up when a run ends. */
final class PodRecorder implements AutoCloseable {
    private final Map<String, Pod> lastSeen = new ConcurrentHashMap<>();
    private SharedIndexInformer<Pod> informer;

    static PodRecorder watch(KubernetesClient client, String namespace) {
        PodRecorder recorder = new PodRecorder();
        recorder.informer = client.pods().inNamespace(namespace).inform(new ResourceEventHandler<>() {
            @Override
            public void onAdd(Pod pod) {
                recorder.lastSeen.put(pod.getMetadata().getUid(), pod);
            }

            @Override
            public void onUpdate(Pod old, Pod pod) {
                recorder.lastSeen.put(pod.getMetadata().getUid(), pod);
            }

            @Override
            public void onDelete(Pod pod, boolean finalStateUnknown) {
                // keep the last state seen before deletion
            }
        });
        return recorder;
    }

    List<Pod> seen() {
        return new ArrayList<>(lastSeen.values());
    }

    @Override
    public void close() {
        informer.close();
    }
}
