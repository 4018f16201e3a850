package io.fedtune.operator.run;

import io.fabric8.kubernetes.api.model.Pod;

/**
 * Where the operator starts and stops its pods. Both calls are idempotent: creating a pod that exists or deleting one
 * that is gone is not an error, which is what makes deterministic pod names a restart-safe idempotency key.
 */
public interface RunPods {
    void create(Pod pod);

    void delete(Pod pod);

    void deleteAllOf(String namespace, String run);
}
