package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Same model, text, voice, seed and settings on the same machine give bit-identical audio (issue 12), checked by
 * repetition rather than by one lucky pair: ten fresh engines per weight type, each run streamed and whole, and
 * the same requests batched four at a time against each alone.
 */
class ReproducibilityTest {
    private static final int ENGINES = 10;
    @TempDir
    static Path tmp;

    private static SpeechRequest request(int i) {
        return SpeechRequest.builder("Reproducible speech, take " + i + ".").seed(100L + i).maxTokens(24).build();
    }

    @ParameterizedTest
    @ValueSource(strings = {"fp32", "bf16", "int8"})
    void tenFreshEnginesGiveBitIdenticalAudioStreamedAndWhole(String dtype) {
        org.junit.jupiter.api.Assumptions.assumeTrue(!dtype.equals("int8")
                || dev.localai.tts.core.nn.Int8Matrix.supported(), "int8 needs FBGEMM (x86-64 with AVX2)");
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 5);
        float[] firstWhole = null;
        float[] firstStreamed = null;
        for (int e = 0; e < ENGINES; e++) {
            try (TtsEngine engine = TtsEngine.builder().model(dir).dtype(dtype).threads(2).cacheBytes(0).build()) {
                float[] whole = engine.synthesize(request(0)).samples();
                List<float[]> parts = new ArrayList<>();
                try (SpeechStream s = engine.stream(request(0))) {
                    while (s.hasNext()) {
                        AudioChunk c = s.next();
                        parts.add(c.samples());
                    }
                }
                float[] streamed = ChunkJoiner.concat(parts);
                // streamed blocks run the flow on the tokens so far, the whole clip on all of them: the same
                // length and the same speech, but not the same bits near the block seams (docs/numerics.md)
                assertThat(streamed).as("%s engine %d: streamed length", dtype, e).hasSameSizeAs(whole);
                if (firstWhole == null) {
                    firstWhole = whole;
                    firstStreamed = streamed;
                    assertThat(whole).isNotEmpty();
                    assertThat(parts).as("blocks of the stream").hasSizeGreaterThan(1);
                    // a later request of the same voice (its T3 prefix now cached) gives the first one's bits
                    assertThat(engine.synthesize(request(0)).samples()).as("%s: again in the same engine", dtype)
                            .containsExactly(whole);
                } else {
                    assertThat(whole).as("%s engine %d vs engine 0, whole", dtype, e).containsExactly(firstWhole);
                    assertThat(streamed).as("%s engine %d vs engine 0, streamed", dtype, e)
                            .containsExactly(firstStreamed);
                }
            }
        }
    }

    @Test
    void batchedRequestsGiveTheAudioTheyGiveAloneInFp32() throws Exception {
        batchedMatchesAlone("fp32");
    }

    /** int8 on the native kernel (each row quantized on its own) and the native decode attention: batched == alone. */
    @Test
    void batchedRequestsGiveTheAudioTheyGiveAloneInInt8OnTheNativeKernels() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.localai.tts.core.nn.Int8Kernel.available()
                && dev.localai.tts.core.nn.CpuAttention.available(), "the native kernels are not loaded here");
        String int8 = System.getProperty(dev.localai.tts.core.nn.Int8Matrix.KERNEL_PROPERTY);
        String att = System.getProperty(dev.localai.tts.core.nn.CpuAttention.PROPERTY);
        boolean int8Before = dev.localai.tts.core.nn.Int8Matrix.nativeKernel();
        boolean attBefore = dev.localai.tts.core.nn.CpuAttention.usedForDecode();
        System.setProperty(dev.localai.tts.core.nn.Int8Matrix.KERNEL_PROPERTY, "native");
        System.setProperty(dev.localai.tts.core.nn.CpuAttention.PROPERTY, "native");
        try {
            batchedMatchesAlone("int8");
            assertThat(dev.localai.tts.core.nn.Int8Matrix.nativeKernel()).isTrue();
            assertThat(dev.localai.tts.core.nn.CpuAttention.usedForDecode()).isTrue();
        } finally {
            dev.localai.tts.core.testing.SystemProperties.restore(dev.localai.tts.core.nn.Int8Matrix.KERNEL_PROPERTY,
                    int8);
            dev.localai.tts.core.testing.SystemProperties.restore(dev.localai.tts.core.nn.CpuAttention.PROPERTY, att);
            dev.localai.tts.core.nn.Int8Matrix.useNativeKernel(int8Before);
            dev.localai.tts.core.nn.CpuAttention.useForDecode(attBefore);
        }
    }

    /**
     * In bf16 the batched kernels round differently from the one-row ones (documented in {@code TtsOptions.Builder
     * #batchDecoding}); the engine therefore never batches bf16 on its own, and asked to, each request's audio is
     * still reproducible at the same concurrency.
     */
    /**
     * A streamed request's blocks run their flow and HiFT on a second thread while T3 decodes on (issue 13); the
     * audio must be the bits of running them in line, chunk by chunk, for several requests and seeds.
     */
    @Test
    void overlappedStreamingGivesTheBitsOfInlineStreaming() {
        Path dir = ModelSource.tiny(tmp.resolve("tiny-overlap"), 6);
        boolean before = Utterance.overlap;
        try (TtsEngine engine = TtsEngine.builder().model(dir).dtype("fp32").threads(2).cacheBytes(0).build()) {
            for (int r = 0; r < 3; r++) {
                Utterance.overlap = false;
                List<float[]> inline = streamChunks(engine, request(r));
                Utterance.overlap = true;
                List<float[]> overlapped = streamChunks(engine, request(r));
                // chunk boundaries follow timing (the stream hands on what has arrived), the samples may not
                assertThat(ChunkJoiner.concat(overlapped)).as("request %d", r)
                        .containsExactly(ChunkJoiner.concat(inline));
                assertThat(inline.size()).as("several blocks, so something overlapped").isGreaterThan(2);
            }
        } finally {
            Utterance.overlap = before;
        }
    }

    /**
     * A request of several text chunks vocodes each chunk's last part on the request's pipeline while the next
     * chunk's T3 decodes: whole or streamed, with a pause tag and a speed change in the way, the samples must be
     * the bits of running every chunk in line.
     */
    @Test
    void chunksVocodedBesideTheNextChunksT3GiveTheBitsOfInlineChunks() {
        Path dir = ModelSource.tiny(tmp.resolve("tiny-chunks"), 6);
        boolean before = Utterance.overlap;
        String text = "First sentence of several here. Second one follows it closely. [pause:0.2s] Third one comes "
                + "after a pause. And a fourth to close.";
        try (TtsEngine engine = TtsEngine.builder().model(dir).dtype("fp32").threads(2).cacheBytes(0).chunkChars(40)
                .build()) {
            for (int r = 0; r < 2; r++) {
                SpeechRequest.Builder b = SpeechRequest.builder(text).seed(300L + r).maxTokens(20);
                SpeechRequest req = (r == 1 ? b.speed(1.25) : b).build();
                Utterance.overlap = false;
                float[] inlineWhole = engine.synthesize(req).samples();
                List<float[]> inlineStream = streamChunks(engine, req);
                Utterance.overlap = true;
                float[] overlappedWhole = engine.synthesize(req).samples();
                List<float[]> overlappedStream = streamChunks(engine, req);
                assertThat(inlineWhole.length).as("several chunks of audio").isGreaterThan(4 * 4800);
                assertThat(overlappedWhole).as("whole, request %d", r).containsExactly(inlineWhole);
                assertThat(ChunkJoiner.concat(overlappedStream)).as("streamed, request %d", r)
                        .containsExactly(ChunkJoiner.concat(inlineStream));
            }
        } finally {
            Utterance.overlap = before;
        }
    }

    private static List<float[]> streamChunks(TtsEngine engine, SpeechRequest req) {
        List<float[]> parts = new ArrayList<>();
        try (SpeechStream s = engine.stream(req)) {
            while (s.hasNext()) {
                parts.add(s.next().samples());
            }
        }
        return parts;
    }

    @Test
    void bf16IsNotBatchedUnlessAskedFor() {
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 5);
        assertThat(TtsEngine.batchPays(null, false, "bf16", 12 * 768, false)).isFalse();
        assertThat(TtsEngine.batchPays(null, false, "fp32", 12 * 768, false)).isTrue();
        assertThat(TtsEngine.batchPays(true, false, "bf16", 12 * 768, false)).isTrue();
        // int8 on FBGEMM quantizes a batch's rows together, so a row's rounding depends on its neighbours
        assertThat(TtsEngine.batchPays(null, false, "int8", 12 * 768, false)).isFalse();
        // the native int8 kernel quantizes each row on its own: batched rows keep their bits
        assertThat(TtsEngine.batchPays(null, false, "int8", 12 * 768, true)).isTrue();
        assertThat(TtsEngine.batchPays(null, false, "int8", 4 * 256, true)).as("a tiny T3").isFalse();
        assertThat(dir).exists();
    }

    private static void batchedMatchesAlone(String dtype) throws Exception {
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 5);
        List<float[]> alone = new ArrayList<>();
        try (TtsEngine one = TtsEngine.builder().model(dir).dtype(dtype).threads(2).cacheBytes(0).build()) {
            for (int i = 0; i < 4; i++) {
                alone.add(one.synthesize(request(i)).samples());
            }
        }
        for (int round = 0; round < 3; round++) {
            try (TtsEngine four = TtsEngine.builder().model(dir).dtype(dtype).threads(2).maxConcurrent(4)
                    .batchDecoding(true).cacheBytes(0).build()) {
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    CountDownLatch go = new CountDownLatch(1);
                    List<Future<float[]>> fs = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        SpeechRequest r = request(i);
                        fs.add(pool.submit(() -> {
                            go.await();
                            return four.synthesize(r).samples();
                        }));
                    }
                    go.countDown();
                    for (int i = 0; i < 4; i++) {
                        assertThat(fs.get(i).get()).as("%s round %d request %d", dtype, round, i)
                                .containsExactly(alone.get(i));
                    }
                } finally {
                    pool.shutdown();
                }
            }
        }
    }
}
