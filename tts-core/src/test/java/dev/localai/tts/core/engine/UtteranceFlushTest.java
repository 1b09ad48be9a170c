package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.model.hift.HiftStream;
import dev.localai.tts.core.model.hift.SourceNoise;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
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
 * {@link Utterance#flush}, the flow and HiFT over a streamed block or a chunk's last part, on the tiny checkpoint:
 * <ul>
 *   <li>A whole chunk's last part is the longest stretch of a request's work, several seconds on two CPU cores for a
 *       300-character chunk. A request cancelled meanwhile (its client gone) must end at the next solver step or
 *       decoder window, not at the part's end, or the next request waits for it: here over 600 tokens (1200 mel
 *       frames, five of HiFT's windows), the cancellation is seen at each point where the part asks, and each time
 *       nothing more is asked and no audio leaves.</li>
 *   <li>A streamed block that a listener is already waiting for ({@link StreamPacer#firstWindow}) leaves in HiFT's
 *       decoder windows as they are made, the first a quarter of the block, instead of after the whole block's
 *       vocoding; a block in time leaves whole, as before, and so does any part of a request that is not streamed.
 *       Either way the same samples up to float rounding, and one flow run for the pacer's count of cheaper runs.
 *       Here over 100 tokens (200 mel frames).</li>
 * </ul>
 */
class UtteranceFlushTest {
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

    /** What one flush went: the audio pieces its sink received, the pacer's count of later cheaper runs. */
    record Flushed(List<float[]> pieces, int laterCheaperRuns) {}

    /**
     * One flush of {@code tokens} seeded tokens as {@code way} says, all their frames, with a fresh pacer that
     * {@code pacerBefore} has told what it knows; {@code cancelled} asked where the flush asks; its audio into
     * {@code pieces}.
     */
    private static Flushed flush(int tokens, FirstBlockPlan.Choice way, Consumer<StreamPacer> pacerBefore,
                                 boolean listening, BooleanSupplier cancelled, List<float[]> pieces) {
        int stride = model.flow().config().upsampleStride();
        int promptTokens = (int) voice.promptTokens();
        int[] ids = new Random(11).ints(tokens, 0, model.flow().config().vocabSize()).toArray();
        try (PointerScope ignored = new PointerScope();
             FlushPipeline pipeline = new FlushPipeline(false, Utterance.flowQuadratic(model));
             SourceNoise noise = SourceNoise.seeded(5, model.hift().config().harmonics());
             HiftStream vocoder = HiftStream.exact(model.hift(), noise, true)) {
            Generator g = torch.createCPUGenerator(6);
            Tensor z = torch.randn(new long[] {1, model.flow().config().melBins(), (long) stride * (promptTokens + tokens)},
                    new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
            StreamPacer pacer = pipeline.pacer;
            pacerBefore.accept(pacer);
            long samples = Utterance.flush(model, voice, ids, tokens, z, way, 0, tokens * stride, vocoder, pieces::add,
                    pacer, pacer.newBlock(), null, listening, cancelled);
            assertThat(samples).isEqualTo(pieces.stream().mapToLong(p -> p.length).sum());
            return new Flushed(pieces, pacer.laterCheaperRuns());
        }
    }

    private static FirstBlockPlan.Choice whole() {
        return FirstBlockPlan.Choice.whole((int) voice.promptTokens(), Utterance.flowSteps(model, 0));
    }

    @Test
    void aCancellationEndsTheLastPartAtTheNextSolverStepOrDecoderWindow() {
        int tokens = 600;
        int[] asked = {0};
        Flushed full = flush(tokens, whole(), p -> { }, false, () -> ++asked[0] < 0, new ArrayList<>());
        assertThat(full.pieces()).isNotEmpty();
        int steps = Utterance.flowSteps(model, 0);
        assertThat(steps).isEqualTo(2);
        // after the encoder, after each of the two solver steps, and before each of HiFT's windows but the
        // first (1200 frames less the vocoder's look-ahead: five windows of 256)
        long frames = full.pieces().stream().mapToLong(a -> a.length).sum() / model.hift().config().samplesPerFrame();
        long windows = (frames + HiftStream.DEFAULT_WINDOW - 1) / HiftStream.DEFAULT_WINDOW;
        assertThat(windows).isEqualTo(5);
        assertThat(asked[0]).isEqualTo(1 + (steps - 1) + 1 + (windows - 1));
        for (int k = 1; k <= asked[0]; k++) {
            int stopAt = k;
            int[] n = {0};
            List<float[]> audio = new ArrayList<>();
            boolean cancelled = false;
            try {
                flush(tokens, whole(), p -> { }, false, () -> ++n[0] == stopAt, audio);
            } catch (CancellationException expected) {
                cancelled = true;
            }
            assertThat(cancelled).as("cancelled at ask %d", k).isTrue();
            assertThat(n[0]).as("asks after the cancellation at ask %d", k).isEqualTo(k);
            assertThat(audio).as("audio after the cancellation at ask %d", k).isEmpty();
        }
    }

    /**
     * One block of 100 tokens after 0.32 s of audio that ran out {@code lateBy} ms ago (negative: that will last that
     * long), HiFT measured at 10 ms a token; its flow the cheapest way (5 s of prompt, one step); a streamed
     * request's ({@code listening}) or a whole one's.
     */
    private static Flushed block(double lateBy, boolean listening) {
        FirstBlockPlan.Choice cheap = new FirstBlockPlan.Choice(Math.min((int) voice.promptTokens(), 125), 1,
                Utterance.firstBlockFlow(model, 0).share(1));
        return flush(100, cheap, pacer -> {
            pacer.blockDone(pacer.newBlock(), 1, 1, 8 * 960L, 80);
            pacer.audio(8 * 960L, StreamPacer.now() - lateBy - 8 * StreamPacer.TOKEN_MS, false);
        }, listening, () -> false, new ArrayList<>());
    }

    @Test
    void aBlockTheListenerWaitsForLeavesWindowByWindowWithTheSameSamples() {
        Flushed inTime = block(-60_000, true);
        Flushed late = block(1_000, true);
        assertThat(block(1_000, false).pieces()).as("no listener (a whole clip's chunk): whole").hasSize(1);
        int spf = model.hift().config().samplesPerFrame();
        int stride = model.flow().config().upsampleStride();
        assertThat(inTime.pieces()).as("a block in time leaves whole").hasSize(1);
        assertThat(late.pieces().size()).as("a late block leaves window by window").isGreaterThan(1);
        assertThat(late.pieces().get(0).length).as("its first window: a quarter of the block's frames")
                .isEqualTo(StreamPacer.firstWindowOf(100L * stride) * spf);
        float[] whole = inTime.pieces().get(0);
        float[] joined = ChunkJoiner.concat(late.pieces());
        assertThat(joined).hasSameSizeAs(whole);
        double worst = 0;
        double signal = 0;
        double error = 0;
        for (int i = 0; i < whole.length; i++) {
            worst = Math.max(worst, Math.abs(whole[i] - joined[i]));
            signal += (double) whole[i] * whole[i];
            error += (double) (whole[i] - joined[i]) * (whole[i] - joined[i]);
        }
        double snr = 10 * Math.log10(signal / Math.max(error, 1e-30));
        System.out.printf("late block in windows against whole: max %.3g, SNR %.1f dB%n", worst, snr);
        // float rounding of convolutions over other lengths (HiftStreamTest: windows against the whole utterance)
        assertThat(worst).as("the same samples up to float rounding").isLessThan(1e-4);
        assertThat(snr).isGreaterThan(90);
        assertThat(late.laterCheaperRuns()).as("one cheaper run, however many windows").isEqualTo(1);
        assertThat(inTime.laterCheaperRuns()).isEqualTo(1);
    }
}
