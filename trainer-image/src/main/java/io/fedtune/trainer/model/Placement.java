package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import io.fedtune.api.contract.TrainerEnv;
import io.fedtune.api.v1alpha1.BaseQuantization;
import java.util.Optional;

/**
 * Where the model runs, in which dtype and how its base is held (quantized or not): one choice for training,
 * evaluation, aggregation and the benchmark.
 */
public record Placement(Device device, DataType dataType, BaseQuantization quantization) {

    public Placement(Device device, DataType dataType) {
        this(device, dataType, BaseQuantization.None);
    }

    /** The same device and dtype with the base held as quantization says. */
    public Placement quantized(BaseQuantization q) {
        return new Placement(device, dataType, q == null ? BaseQuantization.None : q);
    }

    /**
     * The device the pod asked for (under AUTO a usable GPU where there is one, else the CPU); BF16 when asked, or under
     * Auto on a GPU; else FP32. A GPU asked for and not usable is a {@link GpuUnavailableException}, never the CPU.
     */
    public static Placement of(String precision, DeviceRequest request) {
        Device device = switch (request) {
            case CPU -> Device.cpu();
            case GPU -> {
                Optional<String> problem = GpuCheck.run().problem();
                if (problem.isPresent()) {
                    throw new GpuUnavailableException("the pod asked for a GPU (" + TrainerEnv.DEVICE + "=gpu), "
                            + problem.get());
                }
                yield Device.gpu();
            }
            case AUTO -> GpuCheck.run().problem().isEmpty() ? Device.gpu() : Device.cpu();
        };
        boolean bf16 = "BF16".equalsIgnoreCase(precision) || (device.isGpu() && "Auto".equalsIgnoreCase(precision));
        return new Placement(device, bf16 ? DataType.BFLOAT16 : DataType.FLOAT32);
    }

    /** {@code cpu} or {@code gpu}, as the termination message and the manifest say it. */
    public String deviceName() {
        return device.isGpu() ? TrainerEnv.DEVICE_GPU : TrainerEnv.DEVICE_CPU;
    }

    /** {@code FP32} or {@code BF16}, the API's precision names. */
    public String precisionName() {
        return dataType == DataType.BFLOAT16 ? "BF16" : "FP32";
    }

    @Override
    public String toString() {
        return dataType + " on " + (device.isGpu() ? "GPU" : "CPU")
                + (quantization == BaseQuantization.None ? "" : ", base " + quantization);
    }
}
