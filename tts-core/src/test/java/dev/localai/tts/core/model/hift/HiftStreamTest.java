package dev.localai.tts.core.model.hift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.testing.HeldTensors;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chunked (streaming) vocoding against whole-utterance vocoding on the tiny checkpoint. */
class HiftStreamTest {
    static StateDict sd;
    static HiFTGenerator hift;
    static Tensor mel; // (1, 80, 150): the golden mel, its time reversal and the mel again
    static Tensor phase;
    static Tensor noise;

    @BeforeAll
    static void load() {
        Torch.init(2);
        sd = StateDict.open(Golden.ckpt().resolve("s3gen_meanflow.safetensors"), Device.cpu());
        hift = HiFTGenerator.load(sd, HiftConfig.tiny());
        try (SafeTensors g = Golden.load("hift.safetensors"); Tensor m = g.tensor("in.mel"); Tensor p = g.tensor("in.sine_phase")) {
            mel = torch.cat(new TensorVector(m, m.flip(2), m), 2).contiguous();
            phase = p.clone();
        }
        Generator gen = torch.make_generator_cpu(7);
        noise = torch.randn(new long[] {1, 9, mel.size(2) * 480}, new GeneratorOptional(gen), new TensorOptions(ScalarType.Float));
    }

    @AfterAll
    static void close() {
        hift.close();
        sd.close();
    }

    /**
     * A decode leaves each level's signal and its sum of resblocks alive, not every convolution's and activation's
     * output: kept to a window's end, those made a streamed 64-frame window of Turbo's vocoder hold several hundred MB
     * at once (docs/performance.md, "Nineteenth round"). Here the decode of the tiny vocoder's 150 frames left 54 times
     * its largest tensor alive before the fix, 12 times after.
     */
    @Test
    void aDecodeFreesEachLayersTemporariesAsItGoes() {
        try (HiFTGenerator.Output out = hift.inference(mel, SourceNoise.of(phase, noise));
             HeldTensors held = new HeldTensors()) {
            Tensor wav = hift.decodeInScope(mel, out.source(), 0, mel.size(2));
            assertThat(wav.size(1)).isEqualTo(mel.size(2) * 480);
            assertThat(held.bytes()).as(() -> "bytes left alive, against the largest tensor's " + held.largest()
                    + ": " + held.describe()).isLessThanOrEqualTo(16 * held.largest());
        }
    }

    private static Tensor whole(boolean fade) {
        HiFTGenerator.Output out = hift.inference(mel, SourceNoise.of(phase, noise));
        Tensor w = out.wav().clone();
        out.close();
        return fade ? TrimFade.applyInPlace(w, 0, 24000) : w;
    }

    /** Output sample positions where one emitted part ends and the next begins (set by {@link #streamed}). */
    static List<Long> seams = new ArrayList<>();

    private static Tensor streamed(int[] chunks, int context, boolean fade) {
        List<Tensor> parts = new ArrayList<>();
        seams = new ArrayList<>();
        try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, fade)) {
            long pos = 0;
            int i = 0;
            while (pos < mel.size(2)) {
                long n = Math.min(chunks[i++ % chunks.length], mel.size(2) - pos);
                parts.add(s.push(mel.narrow(2, pos, n)));
                pos += n;
            }
            parts.add(s.finish());
        }
        long acc = 0;
        for (Tensor p : parts) {
            if (p.size(1) > 0 && acc > 0) {
                seams.add(acc);
            }
            acc += p.size(1);
        }
        return torch.cat(new TensorVector(parts.toArray(new Tensor[0])), 1);
    }

    /** Max |a - b| within +-240 samples of every seam. */
    private static double seamError(Tensor a, Tensor b, List<Long> at) {
        double worst = 0;
        for (long c : at) {
            long from = Math.max(0, c - 240);
            long len = Math.min(a.size(1), c + 240) - from;
            worst = Math.max(worst, Golden.maxAbsDiff(a.narrow(1, from, len), b.narrow(1, from, len)));
        }
        return worst;
    }

    @Test
    void radiusIsAboutFifteenFrames() {
        assertThat(HiftConfig.turbo().decoderRadiusFrames()).isBetween(15, 20);
    }

    @Test
    void exactStreamEqualsWholeUtterance() {
        int[] chunks = {7, 13, 25, 1, 40};
        Tensor ref = whole(true);
        Tensor got = streamed(chunks, HiftConfig.tiny().decoderRadiusFrames(), true);
        assertThat(got.size(1)).isEqualTo(ref.size(1));
        double maxErr = Golden.maxAbsDiff(got, ref);
        double seam = seamError(got, ref, seams);
        double snr = Golden.snrDb(ref, got);
        System.out.printf("stream exact (context %d): max %.3g, at seams %.3g, SNR %.1f dB, peak %.3g%n",
                HiftConfig.tiny().decoderRadiusFrames(), maxErr, seam, snr, ref.abs().max().item_float());
        assertThat(seams).hasSizeGreaterThan(4);
        assertThat(maxErr).isLessThan(1e-5);
        assertThat(snr).isGreaterThan(90);
    }

    @Test
    void aLongPushIsVocodedInWindowsThatJoinExactly() {
        Tensor ref = whole(true);
        for (long window : new long[] {0, 9, 16, 64, HiftStream.DEFAULT_WINDOW}) {
            Tensor got;
            try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise),
                    HiftConfig.tiny().decoderRadiusFrames(), true, window)) {
                // one push of everything, then the end: the windows are the stream's own cuts
                Tensor a = s.push(mel);
                got = torch.cat(new TensorVector(a, s.finish()), 1);
            }
            assertThat(got.size(1)).as("window %d", window).isEqualTo(ref.size(1));
            double maxErr = Golden.maxAbsDiff(got, ref);
            System.out.printf("one push, window %d: max %.3g, SNR %.1f dB%n", window, maxErr, Golden.snrDb(ref, got));
            assertThat(maxErr).as("window %d", window).isLessThan(1e-5);
        }
    }

    /**
     * A push that hands each decoder window on as it is made (a block a listener waits for): the windows come in
     * order, the first cut to the frames asked (never above the stream's own window), the rest in the stream's
     * windows, and together they are the plain push's samples up to float rounding, and the whole utterance's. A stop
     * or a failing receiver ends the stream after the windows already handed on.
     */
    @Test
    void aPushCanHandOnEachWindowAsItIsMadeWithAShortFirstOne() {
        int context = HiftConfig.tiny().decoderRadiusFrames();
        int spf = HiftConfig.tiny().samplesPerFrame();
        long window = 16;
        Tensor ref = whole(true);
        for (long first : new long[] {5, 16, 40}) {
            List<Tensor> pieces = new ArrayList<>();
            Tensor got;
            try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window)) {
                long handed = s.push(mel, () -> false, first, p -> {
                    Tensor kept = p.clone();
                    kept.retainReference(); // outlives the push's scope, as a copy to the heap would
                    pieces.add(kept);
                });
                assertThat(handed).isEqualTo(pieces.stream().mapToLong(p -> p.size(1)).sum());
                pieces.add(s.finish());
                got = torch.cat(new TensorVector(pieces.toArray(new Tensor[0])), 1);
            }
            assertThat(pieces.get(0).size(1)).as("first window, %d asked", first)
                    .isEqualTo(Math.min(first, window) * spf);
            for (int i = 1; i < pieces.size() - 1; i++) {
                assertThat(pieces.get(i).size(1)).as("window %d", i).isPositive().isLessThanOrEqualTo(window * spf);
            }
            assertThat(pieces.size()).isGreaterThan(4);
            assertThat(got.size(1)).isEqualTo(ref.size(1));
            assertThat(Golden.maxAbsDiff(got, ref)).as("first window %d", first).isLessThan(1e-5);
            pieces.subList(0, pieces.size() - 1).forEach(Tensor::releaseReference);
        }
        try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window)) {
            assertThatThrownBy(() -> s.push(mel, () -> false, -1, p -> { })).isInstanceOf(IllegalArgumentException.class);
        }
        // stopped before the second window: the first was handed on, nothing after it
        int[] got = {0};
        try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window)) {
            assertThatThrownBy(() -> s.push(mel, () -> true, 5, p -> got[0]++))
                    .isInstanceOf(CancellationException.class);
            assertThat(got[0]).isEqualTo(1);
            assertThatThrownBy(() -> s.push(mel)).isInstanceOf(IllegalStateException.class);
        }
        // a receiver that fails (a client gone): the stream takes nothing more
        try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window)) {
            assertThatThrownBy(() -> s.push(mel, () -> false, 5, p -> {
                throw new IllegalStateException("gone");
            })).hasMessage("gone");
            assertThatThrownBy(s::finish).isInstanceOf(IllegalStateException.class).hasMessageContaining("stopped");
        }
    }

    /**
     * A push given a stop condition asks it before each decoder window but the first and gives the same samples while
     * it does not hold; once it holds, the push ends there, leaves nothing alive in its caller's scope, and the
     * stream takes no more frames. Stopped at each ask in turn.
     */
    @Test
    void aStopConditionEndsALongPushAtTheNextWindow() {
        int context = HiftConfig.tiny().decoderRadiusFrames();
        long window = 16;
        Tensor plain;
        try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window)) {
            plain = s.push(mel);
        }
        int[] asked = {0};
        try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window);
             Tensor checked = s.push(mel, () -> ++asked[0] < 0)) {
            assertThat(Golden.maxAbsDiff(checked, plain)).isZero();
        }
        long windows = (plain.size(1) / HiftConfig.tiny().samplesPerFrame() + window - 1) / window;
        assertThat(windows).isGreaterThanOrEqualTo(4);
        assertThat(asked[0]).isEqualTo(windows - 1);
        plain.close();
        for (int k = 1; k < windows; k++) {
            int stopAt = k;
            int[] n = {0};
            try (HiftStream s = new HiftStream(hift, SourceNoise.of(phase, noise), context, true, window);
                 HeldTensors held = new HeldTensors()) {
                assertThatThrownBy(() -> s.push(mel, () -> ++n[0] >= stopAt))
                        .isInstanceOf(CancellationException.class);
                assertThat(n[0]).as("asks when stopped at %d", k).isEqualTo(k);
                assertThat(held.bytes()).as("left alive when stopped at %d: %s", k, held.describe()).isZero();
                assertThatThrownBy(() -> s.push(mel)).isInstanceOf(IllegalStateException.class);
                assertThatThrownBy(s::finish).isInstanceOf(IllegalStateException.class);
            }
        }
    }

    @Test
    void shortContextOnlyApproximatesAndNaiveChunkingBreaksTheBound() {
        int[] chunks = {25};
        Tensor ref = whole(false);
        for (int ctx : new int[] {2, 4, 8, 12, 15}) {
            Tensor got = streamed(chunks, ctx, false);
            System.out.printf("stream context %d (latency %d frames): max %.3g, at seams %.3g, SNR %.1f dB%n", ctx,
                    ctx + 5, Golden.maxAbsDiff(got, ref), seamError(got, ref, seams), Golden.snrDb(ref, got));
        }
        // Naive: each chunk vocoded on its own (fresh phase, no context): real seam artefacts.
        List<Tensor> parts = new ArrayList<>();
        long noisePos = 0;
        for (long pos = 0; pos < mel.size(2); pos += 25) {
            long n = Math.min(25, mel.size(2) - pos);
            try (HiFTGenerator.Output o = hift.inference(mel.narrow(2, pos, n),
                    SourceNoise.of(phase, noise.narrow(2, noisePos, n * 480)))) {
                parts.add(o.wav().clone());
            }
            noisePos += n * 480;
        }
        Tensor naive = torch.cat(new TensorVector(parts.toArray(new Tensor[0])), 1);
        List<Long> naiveSeams = new ArrayList<>();
        for (long pos = 25; pos < mel.size(2); pos += 25) {
            naiveSeams.add(pos * 480);
        }
        double naiveSeam = seamError(naive, ref, naiveSeams);
        System.out.printf("naive chunking: at seams %.3g, SNR %.1f dB%n", naiveSeam, Golden.snrDb(ref, naive));
        assertThat(naiveSeam).isGreaterThan(1e-3);
    }

    @Test
    void decodingPartOfAWindowComputesOnlyWhatItNeedsAndEqualsCuttingTheWhole() {
        int spf = hift.cfg.samplesPerFrame();
        try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
            Tensor f0 = hift.f0_predictor.forward(mel);
            Tensor s = hift.source(f0, new SourceModuleHnNSF.PhaseState(), SourceNoise.of(phase, noise));
            Tensor all = hift.decode(mel, s);
            long frames = mel.size(2);
            double peak = all.abs().max().item_double();
            // window starts and ends: the utterance's edges, just inside them, and deep inside
            long[][] parts = {{0, 16}, {0, 1}, {1, 2}, {17, 33}, {33, 66}, {40, 41}, {100, frames}, {frames - 1, frames},
                {0, frames}, {5, frames - 5}, {70, 75}};
            for (long[] ft : parts) {
                Tensor part = hift.decode(mel, s, ft[0], ft[1]);
                assertThat(part.size(1)).isEqualTo((ft[1] - ft[0]) * spf);
                double err = part.sub(all.narrow(1, ft[0] * spf, (ft[1] - ft[0]) * spf)).abs().max().item_double();
                assertThat(err).as("frames [%d, %d)", ft[0], ft[1]).isLessThan(1e-6 * Math.max(1, peak));
            }
            assertThat(hift.decode(mel, s, 7, 7).size(1)).isZero();
        }
    }

    @Test
    void seededNoiseIsReproducible() {
        try (Tensor a = hift.vocode(mel.narrow(2, 0, 20), 42); Tensor b = hift.vocode(mel.narrow(2, 0, 20), 42);
             Tensor c = hift.vocode(mel.narrow(2, 0, 20), 43)) {
            assertThat(Golden.maxAbsDiff(a, b)).isZero();
            assertThat(Golden.maxAbsDiff(a, c)).isGreaterThan(0);
            assertThat(a.size(1)).isEqualTo(20 * 480);
        }
    }

    @Test
    void trimFadeWindowIsSilenceThenHalfCosine() {
        try (Tensor w = TrimFade.window(24000)) {
            assertThat(w.size(0)).isEqualTo(960);
            assertThat(w.narrow(0, 0, 480).abs().max().item_float()).isZero();
            assertThat(w.select(0, 480).item_float()).isZero();
            assertThat(w.select(0, 959).item_float()).isEqualTo(1f);
            assertThat(w.select(0, 720).item_float()).isCloseTo(0.5f, org.assertj.core.data.Offset.offset(0.01f));
        }
    }
}
