package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A GPU that LibTorch cannot use is a clear configuration error before anything loads, not a LibTorch trace. */
class EngineDeviceTest {
    @TempDir
    Path tmp;

    @Test
    void aGpuLibTorchCannotSeeIsRefusedUpFrontWithWhatToDo() {
        Torch.load();
        assumeFalse(torch.cuda_is_available(), "this machine has a GPU: the other case below applies");
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 3);
        for (String spec : new String[] {"cuda", "cuda:1", "gpu"}) {
            assertThatThrownBy(() -> TtsEngine.builder().model(dir).device(spec).build())
                    .as(spec)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("LibTorch sees no CUDA GPU")
                    .hasMessageContaining("use cpu or auto");
        }
    }

    @Test
    void aGpuIndexBeyondTheMachinesIsRefused() {
        Torch.load();
        long gpus = torch.cuda_is_available() ? torch.cuda_device_count() : 0;
        assumeFalse(gpus == 0, "no GPU here: the case above applies");
        assertThatThrownBy(() -> TtsEngine.requireDevice(Device.cuda((int) gpus)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("LibTorch sees " + gpus + " GPU");
    }
}
