package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.model.hift.HiftStream;
import dev.localai.tts.core.model.hift.SourceNoise;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
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
 * A streamed block that a listener is already waiting for ({@link StreamPacer#firstWindow}) leaves in HiFT's decoder
 * windows as they are made, the first a quarter of the block, instead of after the whole block's vocoding; a block
 * in time leaves whole, as before, and so does any part of a request that is not streamed. Either way the same
 * samples up to float rounding, and one flow run for the pacer's count of cheaper runs. On the tiny checkpoint,
 * {@link Utterance#flush} over 100 tokens (200 mel frames).
 */
class LateBlockWindowsTest {
    private static final int TOKENS = 100;
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

    /** What one block gave: the pieces its sink received, and the pacer's count of later cheaper runs. */
    record Block(List<float[]> pieces, int laterCheaperRuns) {}

    /**
     * One block of {@link #TOKENS} seeded tokens after 0.32 s of audio that ran out {@code lateBy} ms ago (negative:
     * that will last that long), HiFT measured at 10 ms a token; its flow the cheapest way (5 s of prompt, one step);
     * a streamed request's ({@code listening}) or a whole one's.
     */
    private static Block block(double lateBy, boolean listening) {
        int stride = model.flow().config().upsampleStride();
        int promptTokens = (int) voice.promptTokens();
        int[] ids = new Random(11).ints(TOKENS, 0, model.flow().config().vocabSize()).toArray();
        List<float[]> pieces = new ArrayList<>();
        try (PointerScope ignored = new PointerScope();
             FlushPipeline pipeline = new FlushPipeline(false, Utterance.flowQuadratic(model));
             SourceNoise noise = SourceNoise.seeded(5, model.hift().config().harmonics());
             HiftStream vocoder = HiftStream.exact(model.hift(), noise, true)) {
            Generator g = torch.createCPUGenerator(6);
            Tensor z = torch.randn(new long[] {1, model.flow().config().melBins(), (long) stride * (promptTokens + TOKENS)},
                    new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
            StreamPacer pacer = pipeline.pacer;
            pacer.blockDone(pacer.newBlock(), 1, 1, 8 * 960L, 80);
            pacer.audio(8 * 960L, StreamPacer.now() - lateBy - 8 * StreamPacer.TOKEN_MS, false);
            FirstBlockPlan.Choice cheap = new FirstBlockPlan.Choice(Math.min(promptTokens, 125), 1,
                    Utterance.firstBlockFlow(model, 0).share(1));
            long samples = Utterance.flush(model, voice, ids, TOKENS, z, cheap, 0, TOKENS * stride, vocoder,
                    pieces::add, pacer, pacer.newBlock(), null, listening, () -> false);
            assertThat(samples).isEqualTo(pieces.stream().mapToLong(p -> p.length).sum());
            return new Block(pieces, pacer.laterCheaperRuns());
        }
    }

    @Test
    void aBlockTheListenerWaitsForLeavesWindowByWindowWithTheSameSamples() {
        Block inTime = block(-60_000, true);
        Block late = block(1_000, true);
        assertThat(block(1_000, false).pieces()).as("no listener (a whole clip's chunk): whole").hasSize(1);
        int spf = model.hift().config().samplesPerFrame();
        int stride = model.flow().config().upsampleStride();
        assertThat(inTime.pieces()).as("a block in time leaves whole").hasSize(1);
        assertThat(late.pieces().size()).as("a late block leaves window by window").isGreaterThan(1);
        assertThat(late.pieces().get(0).length).as("its first window: a quarter of the block's frames")
                .isEqualTo(StreamPacer.firstWindowOf((long) TOKENS * stride) * spf);
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
