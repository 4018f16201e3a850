package io.fedtune.operator.events;

import io.fabric8.kubernetes.api.model.HasMetadata;

/** Kubernetes Events about fedtune resources, for kubectl describe and alerting. Messages never carry secrets. */
public interface RunEvents {
    /** Records an Event of the reason's type (Normal or Warning). */
    void record(HasMetadata about, EventReason reason, String message);
}
