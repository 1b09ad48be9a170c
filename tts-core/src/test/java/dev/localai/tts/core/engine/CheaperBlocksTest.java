package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import dev.localai.tts.core.model.t3.SamplingParams;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A streamed utterance whose blocks after the first run cheaper ({@link StreamPacer}'s cheapening), through
 * {@link Utterance#run} on a tiny checkpoint whose voice has an 8 s S3Gen prompt (200 tokens). The request's pacer is
 * first told of a flow so slow (10^7 ms for one token) that no later block can arrive before the listener's audio
 * runs out whatever this machine's speed: every block after the first then takes the cheapest way, the prompt's last
 * 5 s in one step, and its size is the doubling fallback, as it is without cheapening. So the two streams below have
 * the same blocks and differ only in how their later flows ran.
 */
class CheaperBlocksTest {
    private static final int PROMPT_TOKENS = 200;
    @TempDir
    static Path tmp;
    private static LoadedModel loaded;
    private static ChatterboxTurbo model;
    private static PreparedVoice voice;

    @BeforeAll
    static void load() throws Exception {
        Path dir = ModelSource.tiny(tmp.resolve("tiny-long-prompt"), 11,
                TinyCheckpoint.CondsSpec.tiny().withGenPromptTokens(PROMPT_TOKENS));
        loaded = LoadedModel.of(dir);
        model = loaded.model();
        voice = loaded.voice();
    }

    @AfterAll
    static void close() {
        if (loaded != null) {
            loaded.close();
        }
    }

    /** What one streamed utterance gave: its blocks' samples and its pacer's counts. */
    record Streamed(List<float[]> blocks, long samples, long cheaperSamples, int laterCheaperRuns) {
        float[] all() {
            return ChunkJoiner.concat(blocks);
        }
    }

    /** One streamed utterance, later blocks made cheaper where that is predicted to pay, or never. */
    private static Streamed stream(boolean cheapen, boolean slowFlow) {
        // a plan that never measured a first block keeps the first block whole; its cheapening is Turbo's ladder
        FirstBlockPlan plan = new FirstBlockPlan(cheapen ? 1000 : 0, Utterance.firstBlockFlow(model, 0));
        List<float[]> blocks = new ArrayList<>();
        try (FlushPipeline pipeline = new FlushPipeline(false, Utterance.flowQuadratic(model),
                plan)) {
            StreamPacer pacer = pipeline.pacer;
            if (slowFlow) {
                pacer.blockDone(pacer.newBlock(), 1, 1e7, 0, 0);
            }
            Utterance.Params p = new Utterance.Params(new SamplingParams(0.8, 1000, 0.95, 1.2, 60), 5L, true, 8, 80,
                    0);
            Utterance.run(model, null, voice, "Later blocks that run cheaper.", p, blocks::add, () -> false,
                    pipeline);
            pipeline.finish();
            return new Streamed(blocks, pacer.vocodedSamples(), pacer.cheaperSamples(), pacer.laterCheaperRuns());
        }
    }

    @Test
    void blocksTheListenerWouldWaitForRunOnFiveSecondsInOneStepReproducibly() {
        Streamed exact = stream(false, true);
        Streamed cheaper = stream(true, true);
        assertThat(exact.blocks().size()).as("a first block, a later one and the last part").isGreaterThanOrEqualTo(3);
        assertThat(exact.cheaperSamples()).isZero();
        assertThat(exact.laterCheaperRuns()).isZero();

        // the same blocks, the first made the same way; everything after it the cheapest way
        assertThat(cheaper.blocks()).hasSameSizeAs(exact.blocks());
        for (int i = 0; i < exact.blocks().size(); i++) {
            assertThat(cheaper.blocks().get(i)).as("block %d", i).hasSameSizeAs(exact.blocks().get(i));
        }
        assertThat(cheaper.blocks().get(0)).containsExactly(exact.blocks().get(0));
        assertThat(cheaper.blocks().get(1)).isNotEqualTo(exact.blocks().get(1));
        assertThat(cheaper.samples()).isEqualTo(exact.samples());
        assertThat(cheaper.cheaperSamples()).isEqualTo(cheaper.samples() - cheaper.blocks().get(0).length);
        assertThat(cheaper.laterCheaperRuns()).isEqualTo(cheaper.blocks().size() - 1);
        for (float v : cheaper.all()) {
            assertThat(Float.isFinite(v)).isTrue();
        }
        // the same computation every time
        assertThat(stream(true, true).all()).containsExactly(cheaper.all());
    }
}
