package dev.localai.tts.core.model.hift;

import static org.bytedeco.pytorch.global.torch.cat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorVector;

/**
 * Vocodes a stream of mel chunks so that the concatenated output equals whole-utterance vocoding (up to float
 * rounding), with no seam artefacts:
 * <ul>
 *   <li>F0 is predicted for a frame only once the F0 predictor's full context ({@link HiftConfig#f0RadiusFrames()}
 *       frames either side) has arrived;</li>
 *   <li>the excitation is generated once per sample, in order, with the sine phase accumulator and the noise
 *       position carried across chunks, so it is identical to the whole-utterance excitation;</li>
 *   <li>the filter (decoder) runs over a window holding {@code context} cached frames on the left and
 *       {@code context} look-ahead frames on the right of the frames it emits; with {@code context} at least
 *       {@link HiftConfig#decoderRadiusFrames()} the emitted samples do not depend on where the window was cut.
 *       On the CPU a long run of frames is cut into windows of at most {@link #DEFAULT_WINDOW} emitted frames.</li>
 * </ul>
 * Latency: a frame is emitted once {@code context + f0Radius} later frames have arrived (or at {@link #finish()}).
 * A smaller {@code context} lowers latency at the price of small deviations next to the seams.
 *
 * <p>A push may be given a {@code stop} condition, asked before each decoder window after the first: a long run of
 * frames (a whole chunk's, several seconds of vocoding on two CPU cores) then ends at the next window once it holds,
 * and the stream can take no more frames. A push may also hand each decoder window's samples on as soon as it is
 * made, its first window cut short, for whoever is already waiting for the run's audio (a streamed block a listener
 * waits for: the engine's {@code StreamPacer.firstWindow}).
 *
 * <p>Not thread-safe. Returned tensors are owned by the caller.
 */
public final class HiftStream implements AutoCloseable {
    /**
     * The most frames one decoder window emits on the CPU: a longer run is vocoded in windows of this many frames
     * (each with its exact context, so the samples are the same up to float rounding), so that a long chunk's
     * activations stay bounded (about 8 MB per 64-channel activation at the last level for 256 frames; a chunk's 1000
     * tokens in one window would need 61 MB each). Each window also computes its context frames, so smaller windows
     * repeat more work: on a 2-core AMD EPYC (Zen 5) the engine's 5 s utterance took 3.6-4% less time in windows of
     * 256 frames than of 64, natively and under the AVX2 caps, and HiFT alone over 10 s 16% less (docs/performance.md,
     * "Twenty-ninth round"). Windows of 64 were chosen when a window's large activations were faulted in afresh at
     * every operation; since the engine settles glibc's heap and keeps JavaCPP from trimming it, they are not.
     * {@code -Dlocalai.tts.hiftWindow=N} sets it (0: no limit). CUDA tensors are decoded in one window.
     */
    public static final long DEFAULT_WINDOW = Math.max(0L, Long.getLong("localai.tts.hiftWindow", 256L));
    private final HiFTGenerator hift;
    private final SourceNoise noise;
    private final int context;
    private final int f0Radius;
    private final int spf;
    private final boolean trimFade;
    private final SourceModuleHnNSF.PhaseState phase = new SourceModuleHnNSF.PhaseState();
    /** Frames per decoder window on the CPU, 0 for one window. */
    private final long window;

    private Tensor mel; // (1, 80, n) frames [melStart, melStart + n)
    private long melStart;
    private long received;
    private Tensor src; // (1, 1, spf * m) excitation of frames [srcStart, srcStart + m)
    private long srcStart;
    private long f0Done; // frames whose excitation exists
    private long emitted; // frames emitted
    private boolean finished;
    private boolean stopped;

    /**
     * @param context  decoder context frames each side; {@code hift.config().decoderRadiusFrames()} for exact output
     * @param trimFade apply S3Gen's start fade to the first samples of the stream
     */
    public HiftStream(HiFTGenerator hift, SourceNoise noise, int context, boolean trimFade) {
        this(hift, noise, context, trimFade, DEFAULT_WINDOW);
    }

    /** As {@link #HiftStream(HiFTGenerator, SourceNoise, int, boolean)}, with {@code window} frames per decoder window. */
    HiftStream(HiFTGenerator hift, SourceNoise noise, int context, boolean trimFade, long window) {
        if (context < 0 || window < 0) {
            throw new IllegalArgumentException("context and window must be >= 0");
        }
        this.window = window;
        this.hift = hift;
        this.noise = noise;
        this.context = context;
        this.f0Radius = hift.cfg.f0RadiusFrames();
        this.spf = hift.cfg.samplesPerFrame();
        this.trimFade = trimFade;
    }

    /** A stream whose output matches whole-utterance vocoding. */
    public static HiftStream exact(HiFTGenerator hift, SourceNoise noise, boolean trimFade) {
        return new HiftStream(hift, noise, hift.cfg.decoderRadiusFrames(), trimFade);
    }

    /** Frames of look-ahead an {@link #exact} stream of a vocoder of these sizes needs before it emits a frame. */
    public static int exactLatencyFrames(HiftConfig cfg) {
        return cfg.decoderRadiusFrames() + cfg.f0RadiusFrames();
    }

    public long emittedSamples() {
        return emitted * spf;
    }

    /** Adds mel frames (1, 80, n) and returns the samples (1, k) that became final (k may be 0). */
    public Tensor push(Tensor melChunk) {
        return push(melChunk, () -> false);
    }

    /**
     * As {@link #push(Tensor)}, but {@code stop} is asked before each decoder window after the first; once it holds,
     * this throws {@link CancellationException} without the rest of the frames' samples, and the stream takes no
     * more frames ({@link IllegalStateException}). What it computed is freed.
     */
    public Tensor push(Tensor melChunk, BooleanSupplier stop) {
        open();
        try (PointerScope scope = new PointerScope()) {
            add(melChunk);
            return HiFTGenerator.keep(advanceJoined(false, stop));
        }
    }

    /**
     * As {@link #push(Tensor, BooleanSupplier)}, but each decoder window's samples (1, k) go to {@code each} as soon
     * as that window is decoded, and on the CPU the first window emits at most {@code firstWindow} frames (0: as many
     * as the others). Whoever waits for the run's audio gets its first samples after one short window's work instead
     * of the whole run's; the samples are the same up to float rounding wherever the windows are cut. A tensor given
     * to {@code each} is valid during that call only; an exception from {@code each} ends the stream as a stop does.
     * Returns the samples handed over.
     */
    public long push(Tensor melChunk, BooleanSupplier stop, long firstWindow, Consumer<Tensor> each) {
        if (firstWindow < 0) {
            throw new IllegalArgumentException("firstWindow must be >= 0: " + firstWindow);
        }
        open();
        try (PointerScope scope = new PointerScope()) {
            add(melChunk);
            long[] handed = {0};
            advance(false, stop, firstWindow, piece -> {
                handed[0] += piece.size(1);
                each.accept(piece);
            });
            return handed[0];
        }
    }

    /** Marks the end of the utterance and returns the remaining samples (1, k). */
    public Tensor finish() {
        open();
        finished = true;
        try (PointerScope scope = new PointerScope()) {
            return HiFTGenerator.keep(advanceJoined(true, () -> false));
        }
    }

    /** Appends mel frames (1, 80, n) to those the stream holds. */
    private void add(Tensor melChunk) {
        Tensor m = mel == null ? melChunk.clone() : cat(new TensorVector(mel, melChunk), 2);
        replaceMel(m, melStart);
        received += melChunk.size(2);
    }

    /** {@link #advance} with every window's samples as one (1, k) tensor (k may be 0). */
    private Tensor advanceJoined(boolean last, BooleanSupplier stop) {
        List<Tensor> parts = new ArrayList<>();
        advance(last, stop, 0, parts::add);
        return parts.isEmpty() ? org.bytedeco.pytorch.global.torch.zeros(1, 0)
                : parts.size() == 1 ? parts.get(0) : cat(new TensorVector(parts.toArray(new Tensor[0])), 1);
    }

    private void open() {
        if (stopped) {
            throw new IllegalStateException("vocoding was stopped");
        }
        if (finished) {
            throw new IllegalStateException("stream finished");
        }
    }

    /** Vocodes what became ready, handing each decoder window's samples to {@code each}, in order. */
    private void advance(boolean last, BooleanSupplier stop, long firstWindow, Consumer<Tensor> each) {
        // 1. excitation for frames whose F0 context is complete
        long f0Ready = last ? received : Math.max(f0Done, received - f0Radius);
        if (f0Ready > f0Done) {
            long w0 = Math.max(0, f0Done - f0Radius);
            long w1 = Math.min(received, f0Ready + f0Radius);
            Tensor f0 = hift.f0_predictor.forward(melRange(w0, w1)).narrow(1, f0Done - w0, f0Ready - f0Done);
            Tensor s = hift.source(f0, phase, noise);
            Tensor all = src == null ? s : cat(new TensorVector(src, s), 2);
            replaceSrc(all, srcStart);
            f0Done = f0Ready;
        }
        // 2. decode the frames whose right context is available
        long emitReady = last ? received : Math.max(emitted, f0Done - context);
        if (emitReady > emitted) {
            boolean cpu = !mel.is_cuda();
            long window = cpu ? this.window : 0;
            boolean first = true;
            while (emitReady > emitted) {
                if (!first && stop.getAsBoolean()) {
                    stopped = true; // emitted and the cached frames no longer agree: nothing more can follow
                    throw new CancellationException("vocoding stopped");
                }
                long limit = window;
                if (first && cpu && firstWindow > 0) {
                    limit = window > 0 ? Math.min(window, firstWindow) : firstWindow;
                }
                long to = limit > 0 ? Math.min(emitReady, emitted + limit) : emitReady;
                long w0 = Math.max(0, emitted - context);
                long w1 = last && to == emitReady ? received : Math.min(received, to + context);
                // only the emitted frames' samples: the context frames are computed only as far as those need them
                Tensor wav = hift.decode(melRange(w0, w1), srcRange(w0, w1), emitted - w0, to - w0);
                Tensor piece;
                try {
                    piece = wav.alias(); // this scope's, as every other tensor made here
                } finally {
                    wav.releaseReference();
                }
                if (trimFade) {
                    TrimFade.applyInPlace(piece, emitted * spf, hift.cfg.sampleRate());
                }
                emitted = to;
                first = false;
                try {
                    each.accept(piece);
                } catch (RuntimeException | Error e) {
                    stopped = true; // the window's samples went nowhere: nothing may follow them
                    throw e;
                }
            }
        }
        // 3. drop what no later window needs
        long keepFrom = Math.max(0, Math.min(emitted - context, f0Done - f0Radius));
        if (keepFrom > melStart) {
            replaceMel(mel.narrow(2, keepFrom - melStart, mel.size(2) - (keepFrom - melStart)).contiguous(), keepFrom);
        }
        long keepSrc = Math.max(0, emitted - context);
        if (src != null && keepSrc > srcStart) {
            replaceSrc(src.narrow(2, (keepSrc - srcStart) * spf, src.size(2) - (keepSrc - srcStart) * spf).contiguous(),
                    keepSrc);
        }
    }

    private Tensor melRange(long from, long to) {
        return mel.narrow(2, from - melStart, to - from);
    }

    private Tensor srcRange(long from, long to) {
        return src.narrow(2, (from - srcStart) * spf, (to - from) * spf);
    }

    private void replaceMel(Tensor m, long start) {
        m.retainReference();
        if (mel != null) {
            mel.releaseReference();
        }
        mel = m;
        melStart = start;
    }

    private void replaceSrc(Tensor s, long start) {
        s.retainReference();
        if (src != null) {
            src.releaseReference();
        }
        src = s;
        srcStart = start;
    }

    @Override
    public void close() {
        if (mel != null) {
            mel.releaseReference();
            mel = null;
        }
        if (src != null) {
            src.releaseReference();
            src = null;
        }
        phase.release();
    }
}
