package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a pod gets where neither the run nor the shard says: the image, and resource requests so the scheduler places
 * trainers by what they need (a pod with no requests is BestEffort: first to be evicted, and packed onto any node).
 * Operator properties fedtune.trainer.image and fedtune.pods.{cpu-request, memory-request, scratch-size}.
 */
public record PodDefaults(String image, String cpuRequest, String memoryRequest, String scratchSize) {
    public static final String CPU_REQUEST = "1";
    public static final String MEMORY_REQUEST = "4Gi";
    public static final String SCRATCH_SIZE = "20Gi";

    public static PodDefaults of(String image) {
        return new PodDefaults(image, CPU_REQUEST, MEMORY_REQUEST, SCRATCH_SIZE);
    }

    /**
     * The pod's resources: the given ones, plus a default request for cpu, memory and ephemeral-storage (the scratch
     * size: the root filesystem is read-only, so scratch is what the pod writes) where they set neither a request nor a
     * limit; a limit alone already makes Kubernetes request as much.
     */
    ResourceRequirements resources(ResourceRequirements given, String scratch) {
        Map<String, Quantity> limits = given == null || given.getLimits() == null ? Map.of() : given.getLimits();
        Map<String, Quantity> requests = new LinkedHashMap<>(given == null || given.getRequests() == null ? Map.of() : given.getRequests());
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("cpu", cpuRequest);
        defaults.put("memory", memoryRequest);
        defaults.put("ephemeral-storage", scratch);
        defaults.forEach((resource, amount) -> {
            if (amount != null && !amount.isBlank() && !requests.containsKey(resource) && !limits.containsKey(resource)) {
                requests.put(resource, new Quantity(amount));
            }
        });
        ResourceRequirements out = new ResourceRequirements();
        out.setRequests(requests);
        out.setLimits(limits.isEmpty() ? null : new LinkedHashMap<>(limits));
        if (given != null) {
            out.setClaims(given.getClaims());
        }
        return out;
    }
}
