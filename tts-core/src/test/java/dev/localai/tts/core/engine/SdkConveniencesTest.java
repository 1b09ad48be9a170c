package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SynthesisProgress;
import dev.localai.tts.core.text.SentenceSplitter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The SDK's progress listener and CompletableFuture API on a real (tiny) engine. */
class SdkConveniencesTest {
    @TempDir
    static Path tmp;
    static TtsEngine engine;

    @BeforeAll
    static void load() {
        // fp32: the same request gives bit-identical audio, whichever call makes it
        engine = TtsEngine.builder().model(ModelSource.tiny(tmp.resolve("tiny"), 3)).dtype("fp32").threads(2)
                .maxConcurrent(1).maxQueue(2).cacheBytes(0).chunkChars(20).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @Test
    void progressReportsEveryChunkAndEndsDone() {
        String text = "One two three. Four five six. Seven eight nine.";
        int chunks = SentenceSplitter.chunks(text, 20).size();
        assertThat(chunks).isGreaterThan(1);
        List<SynthesisProgress> seen = new ArrayList<>();
        AudioClip clip = engine.synthesize(SpeechRequest.builder(text).seed(3).maxTokens(8).build(), seen::add);

        assertThat(seen).isNotEmpty();
        assertThat(seen).allSatisfy(p -> assertThat(p.chunks()).isEqualTo(chunks));
        for (int i = 1; i < seen.size(); i++) {
            assertThat(seen.get(i).chunksDone()).isGreaterThanOrEqualTo(seen.get(i - 1).chunksDone());
            assertThat(seen.get(i).audioSeconds()).isGreaterThanOrEqualTo(seen.get(i - 1).audioSeconds());
        }
        SynthesisProgress last = seen.get(seen.size() - 1);
        assertThat(last.done()).isTrue();
        assertThat(last.chunksDone()).isEqualTo(chunks);
        assertThat(last.audioSeconds()).isEqualTo(clip.durationSeconds());
        assertThat(seen.subList(0, seen.size() - 1)).noneMatch(SynthesisProgress::done);
        assertThat(clip.stats().textChunks()).isEqualTo(chunks);

        // the same audio as the plain call (the progress only watches)
        AudioClip plain = engine.synthesize(SpeechRequest.builder(text).seed(3).maxTokens(8).build());
        assertThat(clip.samples()).containsExactly(plain.samples());
    }

    @Test
    void synthesizeAsyncCompletesWithTheClip() throws Exception {
        // (the request of TtsEngineTest's first test: the tiny random model gives finite audio for it)
        SpeechRequest r = SpeechRequest.builder("Hello there.").seed(42).maxTokens(12).build();
        CompletableFuture<AudioClip> f = engine.synthesizeAsync(r);
        AudioClip clip = f.get();
        assertThat(clip.samples()).isNotEmpty();
        for (float v : clip.samples()) {
            assertThat(Float.isFinite(v)).isTrue();
        }
        assertThat(clip.samples()).containsExactly(engine.synthesize(r).samples());
    }

    @Test
    void synthesizeAsyncFailsWithTheEngineException() {
        CompletableFuture<AudioClip> f = engine.synthesizeAsync(
                SpeechRequest.builder("Nobody speaks.").voiceId("nobody").build());
        assertThatThrownBy(f::get).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(EngineException.class)
                .satisfies(e -> assertThat(((EngineException) e).kind()).isEqualTo(EngineException.Kind.UNKNOWN_VOICE));
    }

    @Test
    void cancellingTheFutureCancelsTheGeneration() throws Exception {
        // 2000 sentences of up to 1000 tokens each: minutes of work that only a cancellation ends within the wait
        String endless = "Word after word. ".repeat(2000);
        CompletableFuture<AudioClip> running = engine.synthesizeAsync(
                SpeechRequest.builder(endless).seed(1).maxTokens(1000).build());
        awaitActive(1);
        assertThat(running.cancel(true)).isTrue();
        assertThatThrownBy(running::join).isInstanceOf(CancellationException.class);
        awaitActive(0);
        AudioClip after = engine.synthesize(SpeechRequest.builder("Hello there.").seed(42).maxTokens(12).build());
        assertThat(after.samples()).isNotEmpty();
    }

    /** Waits (at most a minute) until the engine runs {@code n} generations. */
    private static void awaitActive(int n) throws InterruptedException {
        for (int i = 0; i < 6000 && engine.health().activeRequests() != n; i++) {
            Thread.sleep(10);
        }
        assertThat(engine.health().activeRequests()).isEqualTo(n);
    }
}
