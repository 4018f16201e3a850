package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import java.util.Optional;

/**
 * Where the operator starts and stops its pods (and the ConfigMaps that carry aggregation tasks). Creating and deleting
 * are idempotent: creating an object that exists or deleting one that is gone is not an error, which is what makes
 * deterministic names a restart-safe idempotency key.
 */
public interface RunPods {
    void create(Pod pod);

    void create(ConfigMap configMap);

    /** A ConfigMap read from the API server (not cached: task ConfigMaps are read once per aggregation attempt). */
    Optional<ConfigMap> configMap(String namespace, String name);

    /** Deletes the pod and the task ConfigMap it mounts, if any. */
    void delete(Pod pod);

    void deleteAllOf(String namespace, String run);
}
