package dev.localai.tts.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine on a GPU with half-precision T3 weights: a whole clip, a streamed one, and concurrent requests whose
 * decode steps are batched (skipped without a GPU). Each runs on its own so that one failure does not hide another.
 */
class CudaEngineTest {
    @TempDir
    static Path tmp;
    static TtsEngine tts;

    @BeforeAll
    static void start() {
        assumeTrue(CudaRuntime.available(), () -> "no GPU: " + CudaRuntime.reason());
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 3);
        tts = CudaTts.builder("cuda").model(dir).cacheBytes(0).maxConcurrent(4).build();
    }

    @AfterAll
    static void stop() {
        if (tts != null) {
            tts.close();
        }
    }

    private static void assertFinite(float[] samples) {
        for (float v : samples) {
            assertThat(Float.isFinite(v)).isTrue();
        }
    }

    @Test
    void synthesizesOnTheGpuInHalfPrecisionAndReportsVram() {
        assertThat(tts.modelInfo().device()).startsWith("cuda:");
        assertThat(tts.modelInfo().dtype()).isIn("bf16", "fp16");
        AudioClip clip = tts.synthesize(SpeechRequest.builder("On the GPU.").seed(1L).maxTokens(20).build());
        assertThat(clip.samples().length).isPositive();
        assertFinite(clip.samples());
        VramReport r = CudaDevices.vram(Integer.parseInt(tts.modelInfo().device().substring(5)));
        System.out.println(r);
        assertThat(r.torchAllocated()).isPositive();
    }

    @Test
    void streamsOnTheGpuTheAudioItAnnounces() throws Exception {
        SpeechRequest req = SpeechRequest.builder("Streamed from the GPU, chunk by chunk.").seed(2L).maxTokens(60)
                .build();
        long samples = 0;
        int chunks = 0;
        double announced;
        try (SpeechStream s = tts.stream(req)) {
            while (s.hasNext()) {
                AudioChunk c = s.next();
                assertFinite(c.samples());
                samples += c.samples().length;
                chunks++;
            }
            announced = s.stats().audioSeconds();
        }
        assertThat(chunks).isPositive();
        assertThat(samples).isPositive();
        assertThat(samples / 24000.0).isCloseTo(announced, org.assertj.core.data.Offset.offset(0.001));
    }

    @Test
    void concurrentRequestsShareBatchedDecodeStepsOnTheGpu() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<AudioClip>> fs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                long seed = 10 + i;
                fs.add(pool.submit(() -> tts.synthesize(SpeechRequest.builder("Request " + seed + " on the GPU.")
                        .seed(seed).maxTokens(40).build())));
            }
            for (Future<AudioClip> f : fs) {
                AudioClip c = f.get();
                assertThat(c.samples().length).isPositive();
                assertFinite(c.samples());
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
