package dev.localai.tts.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The engine on a GPU with half-precision T3 weights (skipped without a GPU). */
class CudaEngineTest {
    @TempDir
    Path tmp;

    @Test
    void synthesizesOnTheGpuInHalfPrecisionAndReportsVram() {
        assumeTrue(CudaRuntime.available(), () -> "no GPU: " + CudaRuntime.reason());
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 3);
        try (TtsEngine tts = CudaTts.builder("cuda").model(dir).cacheBytes(0).build()) {
            assertThat(tts.modelInfo().device()).startsWith("cuda:");
            assertThat(tts.modelInfo().dtype()).isIn("bf16", "fp16");
            AudioClip clip = tts.synthesize(SpeechRequest.builder("On the GPU.").seed(1L).maxTokens(20).build());
            assertThat(clip.samples().length).isPositive();
            for (float v : clip.samples()) {
                assertThat(Float.isFinite(v)).isTrue();
            }
            VramReport r = CudaDevices.vram(Integer.parseInt(tts.modelInfo().device().substring(5)));
            System.out.println(r);
            assertThat(r.torchAllocated()).isPositive();
        }
    }
}
