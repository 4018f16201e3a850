package io.fedtune.trainer.model;

import io.fedtune.api.contract.TrainerEnv;

/** What the pod asked for in {@code FEDTUNE_DEVICE}: the CPU, a GPU (none usable is a failure), or either. */
public enum DeviceRequest {
    CPU, GPU, AUTO;

    /** The value of FEDTUNE_DEVICE: {@code cpu}, {@code gpu}, or unset/blank for auto. */
    public static DeviceRequest parse(String value) {
        if (value == null || value.isBlank() || value.equalsIgnoreCase("auto")) {
            return AUTO;
        }
        if (value.equalsIgnoreCase(TrainerEnv.DEVICE_CPU)) {
            return CPU;
        }
        if (value.equalsIgnoreCase(TrainerEnv.DEVICE_GPU)) {
            return GPU;
        }
        throw new IllegalArgumentException(TrainerEnv.DEVICE + " is '" + value + "'; it must be cpu, gpu or unset");
    }
}
