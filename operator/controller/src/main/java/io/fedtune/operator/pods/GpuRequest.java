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

    private static boolean asks(Map<String, Quantity> amounts) {
        Quantity q = amounts == null ? null : amounts.get(TrainerEnv.GPU_RESOURCE);
        return q != null && Quantity.getAmountInBytes(q).signum() > 0;
    }
}
