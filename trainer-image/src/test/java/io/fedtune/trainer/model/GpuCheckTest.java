package io.fedtune.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** Each way a GPU can be out of reach is told apart, from what each layer under DJL reports. */
class GpuCheckTest {

    @Test
    void eachLayerThatFailsIsNamed() {
        assertThat(new GpuCheck(0, "cpu", false, true, 1, null).problem()).hasValueSatisfying(m -> assertThat(m)
                .isEqualTo("DJL's PyTorch engine sees 0 GPUs; libtorch flavour cpu: the image has no CUDA libtorch "
                        + "(use the CUDA image, Dockerfile.cuda)"));
        assertThat(new GpuCheck(0, "cu124", true, false, 0, null).problem()).hasValueSatisfying(m -> assertThat(m)
                .contains("the CUDA runtime does not load"));
        assertThat(new GpuCheck(0, "cu124", true, true, 0, null).problem()).hasValueSatisfying(m -> assertThat(m)
                .contains("CUDA loads but sees 0 devices: no GPU was allotted"));
        assertThat(new GpuCheck(1, "cu124", true, true, 1, "EngineException: CUDA error: no kernel image").problem())
                .hasValueSatisfying(m -> assertThat(m).contains("sees 1 GPU;").contains("allocating on gpu(0) failed: "
                        + "EngineException: CUDA error: no kernel image"));
        assertThat(new GpuCheck(2, "cu124", true, true, 2, null).problem()).isEmpty();
    }

    @Test
    void theDeviceRequestComesFromFedtuneDevice() {
        assertThat(DeviceRequest.parse(null)).isEqualTo(DeviceRequest.AUTO);
        assertThat(DeviceRequest.parse("")).isEqualTo(DeviceRequest.AUTO);
        assertThat(DeviceRequest.parse("GPU")).isEqualTo(DeviceRequest.GPU);
        assertThat(DeviceRequest.parse("cpu")).isEqualTo(DeviceRequest.CPU);
        assertThatThrownBy(() -> DeviceRequest.parse("cuda")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("FEDTUNE_DEVICE is 'cuda'");
    }

    @Test
    void theCpuIsUsedWhenAskedForWhatever() {
        Placement cpu = Placement.of("Auto", DeviceRequest.CPU);
        assertThat(cpu.deviceName()).isEqualTo("cpu");
        assertThat(cpu.precisionName()).isEqualTo("FP32");
        assertThat(Placement.of("BF16", DeviceRequest.CPU).precisionName()).isEqualTo("BF16");
    }
}
