package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SynthesisStats;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A streamed request's first block on the voice prompt's last 5 s in one flow step, end to end through the engine: a
 * tiny checkpoint whose built-in voice has an 8 s S3Gen prompt (200 tokens). A first-audio target of 1 ms is missed by
 * any real measurement, so after its warm-up the engine makes the first block as cheap as it goes, on every machine; a
 * target of 0 never does.
 */
class FirstBlockPlanEngineTest {
    private static final int PROMPT_TOKENS = 200;
    @TempDir
    static Path tmp;
    private static Path model;

    @BeforeAll
    static void checkpoint() throws Exception {
        model = ModelSource.tiny(tmp.resolve("tiny-long-prompt"), 11,
                TinyCheckpoint.CondsSpec.tiny().withGenPromptTokens(PROMPT_TOKENS));
    }

    private static TtsEngine engine(Duration target) {
        return TtsEngine.builder().model(model).allowDownload(false).dtype("fp32").threads(1).cacheBytes(0)
                .warmUp(true).firstAudioTarget(target).build();
    }

    private static SpeechRequest request() {
        return SpeechRequest.builder("A first block on a shorter prompt.").seed(3L).maxTokens(40).build();
    }

    /** The figures of the latest {@link #stream}. */
    private static SynthesisStats lastStats;

    private static List<float[]> stream(TtsEngine e) {
        List<float[]> parts = new ArrayList<>();
        try (SpeechStream s = e.stream(request())) {
            while (s.hasNext()) {
                AudioChunk c = s.next();
                parts.add(c.samples());
            }
            lastStats = s.stats();
        }
        return parts;
    }

    @Test
    void aMissedTargetRunsTheFirstBlockOnFiveSecondsInOneStepReproducibly() {
        List<float[]> whole;
        float[] unstreamed;
        try (TtsEngine off = engine(Duration.ZERO)) {
            whole = stream(off);
            assertThat(lastStats.cheaperAudioSeconds()).as("target 0: nothing made cheaper").isZero();
            assertThat(off.lastFirstBlockPromptSeconds()).as("target 0: the whole 8 s").isEqualTo(8.0);
            assertThat(off.lastFirstBlockFlowSteps()).as("in the checkpoint's steps").isEqualTo(2);
            unstreamed = off.synthesize(request()).samples();
        }
        List<float[]> shortened;
        try (TtsEngine on = engine(Duration.ofMillis(1))) {
            assertThat(on.lastFirstBlockPromptSeconds()).as("the warm-up measured the whole prompt").isEqualTo(8.0);
            assertThat(on.lastFirstBlockFlowSteps()).isEqualTo(2);
            shortened = stream(on);
            // the stream says how much of it came the cheaper way: its first block at least, never more than all
            assertThat(lastStats.cheaperAudioSeconds())
                    .isGreaterThanOrEqualTo(shortened.get(0).length / (double) AudioClip.SAMPLE_RATE)
                    .isLessThanOrEqualTo(lastStats.audioSeconds());
            assertThat(on.lastFirstBlockPromptSeconds()).as("then the shortest upstream accepts")
                    .isEqualTo(FirstBlockPlan.MIN_PROMPT_TOKENS / 25.0);
            assertThat(on.lastFirstBlockFlowSteps()).as("in one step").isEqualTo(1);
            // a non-streamed synthesis always conditions on the whole prompt: the same bits as without the target
            AudioClip clip = on.synthesize(request());
            assertThat(clip.samples()).containsExactly(unstreamed);
            assertThat(clip.stats().cheaperAudioSeconds()).isZero();
            // and the shortened first block is the same computation every time
            assertThat(ChunkJoiner.concat(stream(on))).containsExactly(ChunkJoiner.concat(shortened));
        }
        float[] a = ChunkJoiner.concat(whole);
        float[] b = ChunkJoiner.concat(shortened);
        assertThat(b).as("same tokens, same length").hasSameSizeAs(a).hasSameSizeAs(unstreamed);
        for (float v : b) {
            assertThat(Float.isFinite(v)).isTrue();
        }
        assertThat(shortened.get(0)).as("the first block was made another way")
                .hasSameSizeAs(whole.get(0)).isNotEqualTo(whole.get(0));
    }

    /**
     * {@code flowSteps(1)}: every flow run takes one solver step, whole clips and every streamed block alike, the
     * same bits each time; the tokens, and so the length, are those of two steps.
     */
    @Test
    void flowStepsOfOneRunEverySynthesisInOneStep() {
        float[] two;
        try (TtsEngine e = engine(Duration.ZERO)) {
            assertThat(e.flowSteps()).as("the checkpoint's").isEqualTo(2);
            two = e.synthesize(request()).samples();
        }
        float[] one;
        try (TtsEngine e = TtsEngine.builder().model(model).allowDownload(false).dtype("fp32").threads(1)
                .cacheBytes(0).warmUp(false).firstAudioTarget(Duration.ZERO).flowSteps(1).build()) {
            assertThat(e.flowSteps()).isEqualTo(1);
            one = e.synthesize(request()).samples();
            assertThat(e.synthesize(request()).samples()).as("reproducible").containsExactly(one);
            float[] streamed = ChunkJoiner.concat(stream(e));
            assertThat(e.lastFirstBlockFlowSteps()).isEqualTo(1);
            assertThat(streamed).hasSameSizeAs(one);
        }
        assertThat(one).hasSameSizeAs(two).isNotEqualTo(two);
        for (float v : one) {
            assertThat(Float.isFinite(v)).isTrue();
        }
    }
}
