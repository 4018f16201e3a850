package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;

/** Where the model runs and in which dtype: one choice for training, evaluation, aggregation and the benchmark. */
public record Placement(Device device, DataType dataType) {

    /** The GPU where there is one, else the CPU; BF16 when asked, or under Auto on a GPU; else FP32. */
    public static Placement of(String precision) {
        Device device = Engine.getInstance().getGpuCount() > 0 ? Device.gpu() : Device.cpu();
        boolean bf16 = "BF16".equalsIgnoreCase(precision) || (device.isGpu() && "Auto".equalsIgnoreCase(precision));
        return new Placement(device, bf16 ? DataType.BFLOAT16 : DataType.FLOAT32);
    }

    @Override
    public String toString() {
        return dataType + " on " + (device.isGpu() ? "GPU" : "CPU");
    }
}
