package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pause tags on the tiny random checkpoint: exact silence between the spoken parts, whatever the speed. */
class PauseSynthesisTest {
    private static final int SR = 24_000;
    @TempDir
    static Path tmp;
    static TtsEngine engine;

    @BeforeAll
    static void load() {
        engine = TtsEngine.builder().model(ModelSource.tiny(tmp.resolve("tiny"), 5)).threads(2).build();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Start and length of the longest run of exactly silent samples. */
    private static int[] longestSilence(float[] x) {
        int best = 0;
        int bestAt = -1;
        int run = 0;
        for (int i = 0; i < x.length; i++) {
            run = x[i] == 0f ? run + 1 : 0;
            if (run > best) {
                best = run;
                bestAt = i - run + 1;
            }
        }
        return new int[] {bestAt, best};
    }

    private static boolean audible(float[] x, int from, int to) {
        for (int i = Math.max(0, from); i < Math.min(x.length, to); i++) {
            if (Math.abs(x[i]) > 1e-3) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aPauseTagPutsThatMuchSilenceBetweenTheParts() {
        SpeechRequest r = SpeechRequest.builder("First part. [pause:0.5s] Second part.").seed(4L).maxTokens(10).build();
        float[] x = engine.synthesize(r).samples();
        int[] gap = longestSilence(x);
        assertThat(gap[1]).as("samples of silence").isGreaterThanOrEqualTo((int) (0.45 * SR))
                .isGreaterThanOrEqualTo(SR / 2);
        assertThat(audible(x, 0, gap[0])).as("speech before the pause").isTrue();
        assertThat(audible(x, gap[0] + gap[1], x.length)).as("speech after the pause").isTrue();

        float[] plain = engine.synthesize(r.toBuilder().text("First part. Second part.").build()).samples();
        assertThat(longestSilence(plain)[1]).as("without the tag").isLessThan(SR / 10);
    }

    @Test
    void thePauseKeepsItsLengthAtOtherSpeedsAndWhileStreaming() {
        SpeechRequest r = SpeechRequest.builder("One. [pause:800ms] Two.").seed(6L).maxTokens(8).speed(2.0).build();
        List<float[]> parts = new ArrayList<>();
        try (SpeechStream s = engine.stream(r)) {
            while (s.hasNext()) {
                AudioChunk c = s.next();
                parts.add(c.samples());
            }
        }
        float[] x = ChunkJoiner.concat(parts);
        assertThat(longestSilence(x)[1]).isGreaterThanOrEqualTo((int) (0.8 * SR));
        assertThat(longestSilence(x)[1]).as("only the tail kept after speech adds to it").isLessThan(SR);
    }

    @Test
    void aTextOfOnlyAPauseIsThatSilence() {
        float[] x = engine.synthesize(SpeechRequest.of("[pause:0.25s]")).samples();
        assertThat(x).hasSize(SR / 4);
        assertThat(longestSilence(x)[1]).isEqualTo(SR / 4);
    }
}
