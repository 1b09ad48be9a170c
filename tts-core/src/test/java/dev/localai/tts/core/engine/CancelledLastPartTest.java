package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.model.hift.HiftStream;
import dev.localai.tts.core.model.hift.SourceNoise;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole chunk's last part ({@link Utterance#flush} over every token: the flow, then HiFT over all its frames) is
 * the longest stretch of a request's work, several seconds on two CPU cores for a 300-character chunk. A request
 * cancelled meanwhile (its client gone) must end at the next solver step or decoder window, not at the part's end,
 * or the next request waits for it. Here on the tiny checkpoint, 600 tokens (1200 mel frames, five of HiFT's
 * windows): the cancellation is seen at each point where the part asks, and each time nothing more is asked and no
 * audio leaves.
 */
class CancelledLastPartTest {
    private static final int TOKENS = 600;
    @TempDir
    static Path tmp;
    private static LoadedModel loaded;
    private static ChatterboxTurbo model;
    private static PreparedVoice voice;

    @BeforeAll
    static void load() throws Exception {
        Path dir = ModelSource.tiny(tmp.resolve("tiny"), 3);
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

    /** How one last part went: the times it asked whether the request was cancelled, the audio it handed on. */
    record Outcome(int asked, List<float[]> audio, boolean cancelled) {}

    /** The last part over {@link #TOKENS} seeded tokens; the request counts as cancelled from the {@code stopAt}th ask. */
    private static Outcome lastPart(int stopAt) {
        int stride = model.flow().config().upsampleStride();
        int promptTokens = (int) voice.promptTokens();
        int[] ids = new Random(11).ints(TOKENS, 0, model.flow().config().vocabSize()).toArray();
        int[] asked = {0};
        List<float[]> audio = new ArrayList<>();
        try (PointerScope scope = new PointerScope();
             FlushPipeline pipeline = new FlushPipeline(false, Utterance.flowQuadratic(model));
             SourceNoise noise = SourceNoise.seeded(5, model.hift().config().harmonics());
             HiftStream vocoder = HiftStream.exact(model.hift(), noise, true)) {
            Generator g = torch.createCPUGenerator(6);
            Tensor z = torch.randn(new long[] {1, model.flow().config().melBins(), (long) stride * (promptTokens + TOKENS)},
                    new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
            FirstBlockPlan.Choice whole = FirstBlockPlan.Choice.whole(promptTokens, Utterance.flowSteps(model, 0));
            StreamPacer pacer = pipeline.pacer;
            try {
                Utterance.flush(model, voice, ids, TOKENS, z, whole, 0, TOKENS * stride, vocoder, audio::add, pacer,
                        pacer.newBlock(), null, false, () -> ++asked[0] == stopAt);
                return new Outcome(asked[0], audio, false);
            } catch (CancellationException e) {
                return new Outcome(asked[0], audio, true);
            }
        }
    }

    @Test
    void aCancellationEndsTheLastPartAtTheNextSolverStepOrDecoderWindow() {
        Outcome full = lastPart(0);
        assertThat(full.cancelled()).isFalse();
        assertThat(full.audio()).isNotEmpty();
        int steps = Utterance.flowSteps(model, 0);
        assertThat(steps).isEqualTo(2);
        // after the encoder, after each of the two solver steps, and before each of HiFT's windows but the
        // first (1200 frames less the vocoder's look-ahead: five windows of 256)
        long frames = full.audio().stream().mapToLong(a -> a.length).sum() / model.hift().config().samplesPerFrame();
        long windows = (frames + HiftStream.DEFAULT_WINDOW - 1) / HiftStream.DEFAULT_WINDOW;
        assertThat(windows).isEqualTo(5);
        assertThat(full.asked()).isEqualTo(1 + (steps - 1) + 1 + (windows - 1));
        for (int k = 1; k <= full.asked(); k++) {
            Outcome cut = lastPart(k);
            assertThat(cut.cancelled()).as("cancelled at ask %d", k).isTrue();
            assertThat(cut.asked()).as("asks after the cancellation at ask %d", k).isEqualTo(k);
            assertThat(cut.audio()).as("audio after the cancellation at ask %d", k).isEmpty();
        }
    }
}
