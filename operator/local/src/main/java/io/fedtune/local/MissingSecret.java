package io.fedtune.local;

/** A Secret, ConfigMap or key a pod references is missing; a kubelet reports CreateContainerConfigError. */
final class MissingSecret extends RuntimeException {
    MissingSecret(String message) {
        super(message);
    }
}
