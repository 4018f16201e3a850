package io.fedtune.trainer.model;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.LibUtils;
import ai.djl.util.cuda.CudaUtils;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What this container can see of a GPU, looked at the ways DJL would otherwise hide: DJL swallows CUDA load errors and
 * quietly reports 0 GPUs, so each layer is asked on its own (the libtorch build, the CUDA runtime, the devices) and a
 * tiny array is allocated on the device.
 *
 * @param gpuCount        GPUs DJL's engine reports
 * @param libtorch        the libtorch build DJL loaded, e.g. {@code cpu} or {@code cu124}
 * @param libtorchCuda    whether that build has CUDA
 * @param cudaLoads       whether the CUDA runtime loads (an NVIDIA driver and libcudart in the container)
 * @param cudaDevices     devices the CUDA runtime sees
 * @param allocationError why a tiny allocation on the first GPU failed, or null (also null when none was tried)
 */
public record GpuCheck(int gpuCount, String libtorch, boolean libtorchCuda, boolean cudaLoads, int cudaDevices,
                       String allocationError) {

    public static GpuCheck run() {
        Engine engine = Engine.getInstance();
        int count = engine.getGpuCount();
        boolean cudaLoads = CudaUtils.hasCuda();
        String error = null;
        if (count > 0) {
            try (NDManager m = NDManager.newBaseManager(Device.gpu())) {
                m.ones(new Shape(2)).toFloatArray();
            } catch (RuntimeException | Error e) {
                error = e.getClass().getSimpleName() + ": " + e.getMessage();
            }
        }
        return new GpuCheck(count, flavour(), engine.hasCapability(StandardCapabilities.CUDA), cudaLoads,
                cudaLoads ? CudaUtils.getGpuCount() : 0, error);
    }

    /** The flavour from the libtorch folder's name, {@code <version>-<flavour>-<os>-<arch>}. */
    private static String flavour() {
        try {
            String dir = Path.of(LibUtils.getLibtorchPath()).getFileName().toString();
            String[] parts = dir.split("-");
            return parts.length >= 2 ? parts[1] : dir;
        } catch (RuntimeException e) {
            return "unknown";
        }
    }

    /** Why a GPU cannot be used here, for people; empty when it can. */
    public Optional<String> problem() {
        String seen = "DJL's PyTorch engine sees " + gpuCount + " GPU" + (gpuCount == 1 ? "" : "s")
                + "; libtorch flavour " + libtorch;
        if (!libtorchCuda) {
            return Optional.of(seen + ": the image has no CUDA libtorch (use the CUDA image, Dockerfile.cuda)");
        }
        if (!cudaLoads) {
            return Optional.of(seen + ", but the CUDA runtime does not load: no NVIDIA driver in the container "
                    + "(is the node's NVIDIA container runtime in use?)");
        }
        if (gpuCount == 0 || cudaDevices == 0) {
            return Optional.of(seen + ", CUDA loads but sees " + cudaDevices + " devices: no GPU was allotted to this "
                    + "container (NVIDIA_VISIBLE_DEVICES=" + System.getenv("NVIDIA_VISIBLE_DEVICES") + ")");
        }
        if (allocationError != null) {
            return Optional.of(seen + ", but allocating on gpu(0) failed: " + allocationError);
        }
        return Optional.empty();
    }
}
