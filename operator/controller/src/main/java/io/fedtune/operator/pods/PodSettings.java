package io.fedtune.operator.pods;

import io.fedtune.api.v1alpha1.PodOverrides;

/** Merges pod overrides field by field: a later (more specific) layer wins where it sets a field. */
public final class PodSettings {
    private PodSettings() {
    }

    public static PodOverrides merge(PodOverrides base, PodOverrides override) {
        PodOverrides merged = new PodOverrides();
        for (PodOverrides layer : new PodOverrides[] { base, override }) {
            if (layer == null) {
                continue;
            }
            merged.image = pick(layer.image, merged.image);
            merged.imagePullPolicy = pick(layer.imagePullPolicy, merged.imagePullPolicy);
            merged.imagePullSecrets = pick(layer.imagePullSecrets, merged.imagePullSecrets);
            merged.scratchSize = pick(layer.scratchSize, merged.scratchSize);
            merged.cache = pick(layer.cache, merged.cache);
            merged.runtimeClassName = pick(layer.runtimeClassName, merged.runtimeClassName);
            merged.resources = pick(layer.resources, merged.resources);
            merged.nodeSelector = pick(layer.nodeSelector, merged.nodeSelector);
            merged.tolerations = pick(layer.tolerations, merged.tolerations);
            merged.affinity = pick(layer.affinity, merged.affinity);
            merged.priorityClassName = pick(layer.priorityClassName, merged.priorityClassName);
            merged.serviceAccountName = pick(layer.serviceAccountName, merged.serviceAccountName);
        }
        return merged;
    }

    private static <T> T pick(T value, T fallback) {
        return value != null ? value : fallback;
    }
}
