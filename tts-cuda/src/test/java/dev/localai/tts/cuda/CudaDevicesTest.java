package dev.localai.tts.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.Test;

class CudaDevicesTest {

    @Test
    void probingNeverThrowsAndExplainsItself() {
        boolean available = CudaRuntime.available();
        assertThat(CudaRuntime.reason()).isNotBlank();
        assertThat(CudaRuntime.reason().equals("available")).isEqualTo(available);
        System.out.println("CUDA: " + CudaRuntime.reason());
    }

    @Test
    void preferredDtypeFollowsTheComputeCapability() {
        assertThat(CudaDevices.preferredDtype(90)).isEqualTo(ScalarType.BFloat16);
        assertThat(CudaDevices.preferredDtype(80)).isEqualTo(ScalarType.BFloat16);
        assertThat(CudaDevices.preferredDtype(75)).isEqualTo(ScalarType.Half);
        assertThat(CudaDevices.preferredDtype(61)).isEqualTo(ScalarType.Float);
        assertThat(CudaDevices.dtypeName(ScalarType.BFloat16)).isEqualTo("bf16");
        assertThat(CudaDevices.dtypeName(ScalarType.Half)).isEqualTo("fp16");
    }

    @Test
    void cpuAndBadSpecs() {
        assertThat(CudaDevices.select("cpu")).isEqualTo(Device.cpu());
        assertThatThrownBy(() -> CudaDevices.select("tpu")).isInstanceOf(CudaException.class);
    }

    @Test
    void withoutAGpuAutoIsTheCpuAndCudaIsATypedError() {
        assumeFalse(CudaRuntime.available(), "a GPU is present");
        assertThat(CudaDevices.select("auto")).isEqualTo(Device.cpu());
        assertThatThrownBy(() -> CudaDevices.select("cuda:0")).isInstanceOf(CudaException.class)
                .hasMessageContaining("not available");
        assertThatThrownBy(() -> CudaDevices.vram(0)).isInstanceOf(CudaException.class);
    }

    @Test
    void onAGpuTheDevicesAndTheirMemoryAreReported() {
        assumeTrue(CudaRuntime.available(), () -> "no GPU: " + CudaRuntime.reason());
        Device d = CudaDevices.select("auto");
        assertThat(d.isCuda()).isTrue();
        VramReport r = CudaDevices.vram(d.index());
        System.out.println(r + "; " + CudaRuntime.versions());
        assertThat(r.totalBytes()).isPositive();
        assertThat(r.freeBytes()).isBetween(0L, r.totalBytes());
        assertThatThrownBy(() -> CudaDevices.select("cuda:" + CudaRuntime.deviceCount()))
                .isInstanceOf(CudaException.class).hasMessageContaining("no GPU");
    }
}
