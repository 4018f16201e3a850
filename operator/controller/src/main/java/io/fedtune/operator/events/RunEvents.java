package io.fedtune.operator.events;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Kubernetes Events about fedtune resources, for kubectl describe and alerting. Messages never carry secrets. */
public interface RunEvents {
    void normal(HasMetadata about, String reason, String message);

    void warning(HasMetadata about, String reason, String message);
}
