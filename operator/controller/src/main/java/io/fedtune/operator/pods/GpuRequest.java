package io.fedtune.operator.pods;

import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fedtune.api.contract.TrainerEnv;
import java.util.List;
import java.util.Map;

/** FEDTUNE_DEVICE=gpu on a container that asks for a GPU, so a trainer without one fails (GpuUnavailable) rather than trains on the CPU. */
final class GpuRequest {
    private GpuRequest() {
    }

    static List<EnvVar> deviceEnv(ResourceRequirements resources) {
        boolean asks = resources != null && (asks(resources.getLimits()) || asks(resources.getRequests()));
        return asks ? List.of(RestrictedPod.plain(TrainerEnv.DEVICE, TrainerEnv.DEVICE_GPU)) : List.of();
    }

    /** The same resources without a GPU, for pods that only read, hash and copy files. */
    static ResourceRequirements withoutGpu(ResourceRequirements resources) {
        if (resources == null) {
            return null;
        }
        ResourceRequirements out = new ResourceRequirements();
        out.setRequests(without(resources.getRequests()));
        out.setLimits(without(resources.getLimits()));
        out.setClaims(resources.getClaims());
        return out;
    }

    private static Map<String, Quantity> without(Map<String, Quantity> amounts) {
        if (amounts == null) {
            return null;
        }
        Map<String, Quantity> kept = new java.util.LinkedHashMap<>(amounts);
        kept.remove(TrainerEnv.GPU_RESOURCE);
        return kept;
    }

    private static boolean asks(Map<String, Quantity> amounts) {
        Quantity q = amounts == null ? null : amounts.get(TrainerEnv.GPU_RESOURCE);
        return q != null && Quantity.getAmountInBytes(q).signum() > 0;
    }
}
