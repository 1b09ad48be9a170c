package dev.localai.tts.core.model.hift;

import static org.bytedeco.pytorch.global.torch.cat;
import static org.bytedeco.pytorch.global.torch.clamp;
import static org.bytedeco.pytorch.global.torch.cos;
import static org.bytedeco.pytorch.global.torch.exp;
import static org.bytedeco.pytorch.global.torch.istft;
import static org.bytedeco.pytorch.global.torch.leaky_relu;
import static org.bytedeco.pytorch.global.torch.reflection_pad1d;
import static org.bytedeco.pytorch.global.torch.sin;
import static org.bytedeco.pytorch.global.torch.stack;
import static org.bytedeco.pytorch.global.torch.stft;
import static org.bytedeco.pytorch.global.torch.view_as_complex;
import static org.bytedeco.pytorch.global.torch.view_as_real;

import dev.localai.tts.core.nn.Conv1d;
import dev.localai.tts.core.nn.ConvTranspose1d;
import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import dev.localai.tts.core.nn.Weights;
import java.util.LinkedHashMap;
import java.util.List;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.BoolOptional;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;

/**
 * HiFT vocoder (neural source filter + iSTFTNet) as upstream's {@code HiFTGenerator.inference}: mel (1, 80, T) to a
 * 24 kHz waveform (1, 480 T), clamped to +-0.99. Fields mirror the {@code mel2wav.*} state-dict keys; weight norms
 * are folded at load.
 *
 * <p>Tensors returned by the public methods are owned by the caller (close them); inputs are not modified.
 */
public final class HiFTGenerator implements AutoCloseable {
    public static final String PREFIX = "mel2wav";

    final HiftConfig cfg;
    private final Weights weights = new Weights();
    final SourceModuleHnNSF m_source;
    final Conv1d conv_pre;
    final ConvTranspose1d[] ups;
    final Conv1d[] source_downs;
    final ResBlock[] source_resblocks;
    final ResBlock[] resblocks;
    final Conv1d conv_post;
    final ConvRNNF0Predictor f0_predictor;
    final Tensor stftWindow;
    /** Each level's source STFT downsampling ({@link #downsampleRates}). */
    private final int[] down;
    /** {@link HiftConfig#trimRadiiFrames()}, or null where cutting between layers would misalign samples. */
    private final double[] trimRadii;

    private HiFTGenerator(ParamSource checkpoint, HiftConfig cfg) {
        this.cfg = cfg;
        ParamSource src = weights.track(checkpoint);
        try (PointerScope scope = new PointerScope()) {
            m_source = new SourceModuleHnNSF(src.sub("m_source"), cfg);
            conv_pre = Conv1d.weightNormed(src.sub("conv_pre"), cfg.inChannels(), cfg.baseChannels(), 7, 1, 3, 1);
            int levels = cfg.upsampleRates().size();
            ups = new ConvTranspose1d[levels];
            for (int i = 0; i < levels; i++) {
                int u = cfg.upsampleRates().get(i);
                int k = cfg.upsampleKernelSizes().get(i);
                ups[i] = ConvTranspose1d.weightNormed(src.sub("ups." + i), cfg.baseChannels() >> i,
                        cfg.baseChannels() >> (i + 1), k, u, (k - u) / 2);
            }
            source_downs = new Conv1d[levels];
            source_resblocks = new ResBlock[levels];
            down = downsampleRates(cfg);
            trimRadii = trimmable(cfg) ? cfg.trimRadiiFrames() : null;
            for (int i = 0; i < levels; i++) {
                int u = down[i];
                int ch = cfg.levelChannels(i);
                ParamSource s = src.sub("source_downs." + i);
                source_downs[i] = u == 1
                        ? Conv1d.of(s, cfg.nFft() + 2, ch, 1, 1, 0, 1)
                        : Conv1d.of(s, cfg.nFft() + 2, ch, 2 * u, u, u / 2, 1);
            }
            for (int i = 0; i < levels; i++) {
                source_resblocks[i] = new ResBlock(src.sub("source_resblocks." + i), cfg.levelChannels(i),
                        cfg.sourceResblockKernelSizes().get(i), cfg.sourceResblockDilations());
            }
            int nk = cfg.resblockKernelSizes().size();
            resblocks = new ResBlock[levels * nk];
            for (int i = 0; i < levels; i++) {
                for (int j = 0; j < nk; j++) {
                    resblocks[i * nk + j] = new ResBlock(src.sub("resblocks." + (i * nk + j)),
                            cfg.levelChannels(i), cfg.resblockKernelSizes().get(j), cfg.resblockDilations());
                }
            }
            conv_post = Conv1d.weightNormed(src.sub("conv_post"), cfg.levelChannels(levels - 1),
                    cfg.nFft() + 2, 7, 1, 3, 1);
            f0_predictor = new ConvRNNF0Predictor(src.sub("f0_predictor"), cfg);
            stftWindow = src.keep(hannWindow(cfg.nFft()).to(conv_pre.weight.device(),
                    org.bytedeco.pytorch.global.torch.ScalarType.Float));
        }
    }

    /** Loads from a source of {@code mel2wav.}-relative keys (e.g. {@code ParamSource.of(stateDict.sub("mel2wav"))}). */
    public static HiFTGenerator load(ParamSource mel2wav, HiftConfig cfg) {
        return new HiFTGenerator(mel2wav, cfg);
    }

    /** Loads from a view of s3gen_meanflow.safetensors (root view; {@code mel2wav.} is added here). */
    public static HiFTGenerator load(dev.localai.tts.core.checkpoint.StateDict s3gen, HiftConfig cfg) {
        return new HiFTGenerator(ParamSource.of(s3gen.sub(PREFIX)), cfg);
    }

    public HiftConfig config() {
        return cfg;
    }

    /** Every {@code mel2wav.*} key of s3gen_meanflow.safetensors with its shape, in module order. */
    public static LinkedHashMap<String, long[]> stateDictShapes(HiftConfig cfg) {
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        String p = PREFIX + ".";
        SourceModuleHnNSF.shapes(m, p + "m_source", cfg);
        Conv1d.weightNormedShapes(m, p + "conv_pre", cfg.inChannels(), cfg.baseChannels(), 7);
        int levels = cfg.upsampleRates().size();
        for (int i = 0; i < levels; i++) {
            ConvTranspose1d.weightNormedShapes(m, p + "ups." + i, cfg.baseChannels() >> i, cfg.baseChannels() >> (i + 1),
                    cfg.upsampleKernelSizes().get(i));
        }
        int[] down = downsampleRates(cfg);
        for (int i = 0; i < levels; i++) {
            Conv1d.shapes(m, p + "source_downs." + i, cfg.nFft() + 2, cfg.levelChannels(i),
                    down[i] == 1 ? 1 : 2 * down[i]);
        }
        for (int i = 0; i < levels; i++) {
            ResBlock.shapes(m, p + "source_resblocks." + i, cfg.levelChannels(i),
                    cfg.sourceResblockKernelSizes().get(i), cfg.sourceResblockDilations().size());
        }
        int nk = cfg.resblockKernelSizes().size();
        for (int i = 0; i < levels; i++) {
            for (int j = 0; j < nk; j++) {
                ResBlock.shapes(m, p + "resblocks." + (i * nk + j), cfg.levelChannels(i),
                        cfg.resblockKernelSizes().get(j), cfg.resblockDilations().size());
            }
        }
        Conv1d.weightNormedShapes(m, p + "conv_post", cfg.levelChannels(levels - 1), cfg.nFft() + 2, 7);
        ConvRNNF0Predictor.shapes(m, p + "f0_predictor", cfg);
        return m;
    }

    /** Cumulative downsampling of the source STFT for each level: reversed cumprod of [1] + reversed rates[:-1]. */
    static int[] downsampleRates(HiftConfig cfg) {
        List<Integer> r = cfg.upsampleRates();
        int n = r.size();
        int[] cum = new int[n];
        int acc = 1;
        for (int i = 0; i < n; i++) {
            if (i > 0) {
                acc *= r.get(n - i);
            }
            cum[i] = acc;
        }
        int[] out = new int[n];
        for (int i = 0; i < n; i++) {
            out[i] = cum[n - 1 - i];
        }
        return out;
    }

    /** Periodic Hann window computed like scipy's {@code get_window("hann", n, fftbins=True)} in double, as float32. */
    static Tensor hannWindow(int n) {
        float[] w = new float[n];
        for (int i = 0; i < n; i++) {
            double fac = -Math.PI + 2 * Math.PI * i / n; // linspace(-pi, pi, n + 1)[i]
            w[i] = (float) (0.5 + 0.5 * Math.cos(fac));
        }
        return Tensor.create(w, n);
    }

    // ------------------------------------------------------------------------------------------------ stages

    /** F0 in Hz per mel frame: mel (1, 80, T) to (1, T). */
    public Tensor predictF0(Tensor mel) {
        try (PointerScope scope = new PointerScope()) {
            return keep(f0_predictor.forward(mel));
        }
    }

    /** Nearest-neighbour upsampling of F0 (1, T) to one value per output sample (1, 1, 480 T). */
    Tensor upsampleF0(Tensor f0) {
        return f0.unsqueeze(1).repeat_interleave(cfg.samplesPerFrame(), new LongOptional(2), new LongOptional());
    }

    /**
     * Excitation signal (1, 1, 480 T) for F0 (1, T), consuming {@code 480 T} noise samples and advancing the phase
     * state.
     */
    Tensor source(Tensor f0, SourceModuleHnNSF.PhaseState state, SourceNoise noise) {
        // its (1, samples, harmonics) temporaries freed before it returns, as the decoder's (ResBlock#forward)
        return Scopes.run(() -> {
            Tensor f0Up = upsampleF0(f0);
            // the noise is drawn on the CPU in upstream's order (the same audio on any device), then used where F0 is
            Tensor n = OnDevice.of(noise.next(f0Up.size(2)), f0Up);
            Tensor sw = m_source.sineWaves(f0Up, state, OnDevice.of(noise.initialPhase(), f0Up), n);
            return m_source.merge(sw);
        });
    }

    /** The filter part: mel (1, 80, T) and excitation s (1, 1, 480 T) to the clamped waveform (1, 480 T). */
    public Tensor decode(Tensor mel, Tensor s) {
        try (PointerScope scope = new PointerScope()) {
            return keep(decodeInScope(mel, s, 0, mel.size(2)));
        }
    }

    /**
     * The samples of frames [from, to) of {@link #decode(Tensor, Tensor)}'s output, (1, 480 (to - from)), computing
     * only what they depend on: before each upsampling and each level's resblocks the signal is cut to the frames
     * within {@link HiftConfig#trimRadiiFrames()} of the wanted ones. A streamed window's context frames are there for
     * the edges of what it emits; most of their samples at the finer levels, where most of the work is, are not
     * needed. Equal to cutting the whole output up to float rounding (the convolutions run over other lengths).
     */
    public Tensor decode(Tensor mel, Tensor s, long from, long to) {
        if (from < 0 || to < from || to > mel.size(2)) {
            throw new IllegalArgumentException("frames [" + from + ", " + to + ") of a window of " + mel.size(2));
        }
        try (PointerScope scope = new PointerScope()) {
            return keep(decodeInScope(mel, s, from, to));
        }
    }

    /**
     * Whether cutting the signal between layers keeps samples aligned: each transposed convolution's output is
     * exactly stride times its input ((k - u) even, the padding (k - u) / 2).
     */
    private static boolean trimmable(HiftConfig cfg) {
        for (int i = 0; i < cfg.upsampleRates().size(); i++) {
            if ((cfg.upsampleKernelSizes().get(i) - cfg.upsampleRates().get(i)) % 2 != 0) {
                return false;
            }
        }
        return true;
    }

    /** A signal x covering samples [lo, hi) of its level (rate samples per frame): cut to what frames [from, to) need. */
    private static final class Span {
        Tensor x;
        long lo;
        long hi;

        Span(Tensor x, long lo, long hi) {
            this.x = x;
            this.lo = lo;
            this.hi = hi;
        }

        /** Keeps samples within {@code radius} frames of [from, to) (one more sample for the last level's pad). */
        void cut(long from, long to, double radius, long rate) {
            long a = Math.max(lo, (long) Math.floor((from - radius) * rate));
            long b = Math.min(hi, (long) Math.ceil((to + radius) * rate) + 1);
            if (a > lo || b < hi) {
                x = x.narrow(2, a - lo, b - a);
                lo = a;
                hi = b;
            }
        }
    }

    /**
     * Level i's source signal over the span's samples (of {@code full} at that level): the source STFT downsampled
     * and filtered, from the STFT frames they need only when {@code trim}.
     */
    private Tensor source(int i, Tensor sStft, Span sp, long full, boolean trim) {
        if (!trim) {
            Tensor si = source_resblocks[i].forward(source_downs[i].forward(sStft));
            return sp.lo == 0 && sp.hi == si.size(2) ? si : si.narrow(2, sp.lo, sp.hi - sp.lo);
        }
        long d = down[i];
        long reach = source_resblocks[i].radius + 2; // and one more sample for source_downs' padding
        long a = Math.max(0, sp.lo - reach);
        long b = Math.min(full, sp.hi + reach);
        // source_downs[i] (stride d, kernel 2d, padding d / 2; kernel 1 when d = 1): from STFT frames starting at
        // a d, its output n is the whole signal's a + n (wrong only within reach of a cut edge)
        long s0 = a * d;
        long s1 = Math.min(sStft.size(2), b * d + 2 * d);
        Tensor si = source_resblocks[i].forward(source_downs[i].forward(sStft.narrow(2, s0, s1 - s0)));
        return si.narrow(2, sp.lo - a, sp.hi - sp.lo);
    }

    /**
     * {@link #decode(Tensor, Tensor, long, long)} with the result and what it keeps alive left in the caller's scope:
     * only each level's few signals, every layer's temporaries being freed as it goes.
     */
    Tensor decodeInScope(Tensor mel, Tensor s, long from, long to) {
        long frames = mel.size(2);
        boolean trim = (from > 0 || to < frames) && trimRadii != null;
        double[] radii = trimRadii;
        int nFft = cfg.nFft();
        int hop = cfg.hop();
        Tensor spec = stft(s.squeeze(1), nFft, new LongOptional(hop), new LongOptional(nFft),
                new TensorOptional(stftWindow), true, "reflect", false, new BoolOptional(true), new BoolOptional(true),
                new BoolOptional());
        Tensor ri = view_as_real(spec); // (1, F, N, 2)
        Tensor sStft = cat(new TensorVector(ri.select(3, 0), ri.select(3, 1)), 1);

        Span sp = new Span(conv_pre.forward(mel), 0, frames);
        int levels = ups.length;
        int nk = cfg.resblockKernelSizes().size();
        Scalar slope = new Scalar(cfg.lreluSlope());
        long rate = 1;
        for (int i = 0; i < levels; i++) {
            if (trim) {
                sp.cut(from, to, radii[2 * i], rate);
            }
            int u = cfg.upsampleRates().get(i);
            int level = i;
            Tensor in = sp.x;
            // each step in a scope of its own: only its result stays in the window's (see ResBlock#forward)
            Tensor x = Scopes.run(() -> ups[level].forward(leaky_relu(in, slope)));
            rate *= u;
            sp = new Span(x, sp.lo * u, sp.hi * u);
            if (i == levels - 1) {
                // upstream pads one reflected sample before the whole signal: where this span starts later, that
                // sample lies before it, and its samples move one place on
                if (sp.lo == 0) {
                    sp.x = reflection_pad1d(sp.x, 1, 0);
                } else {
                    sp.lo++;
                }
                sp.hi++;
            }
            Span cur = sp;
            long full = frames * rate + (i == levels - 1 ? 1 : 0);
            sp.x = Scopes.run(() -> cur.x.add(source(level, sStft, cur, full, trim)));
            if (trim) {
                sp.cut(from, to, radii[2 * i + 1], rate);
            }
            Tensor excited = sp.x;
            sp.x = Scopes.run(() -> {
                Tensor xs = null;
                for (int j = 0; j < nk; j++) {
                    Tensor r = resblocks[level * nk + j].forward(excited);
                    xs = xs == null ? r : xs.add_(r);
                }
                return xs.div(new Scalar((double) nk));
            });
        }
        Tensor x = sp.x;
        x = leaky_relu(x, new Scalar(0.01));
        x = conv_post.forward(x);
        int bins = nFft / 2 + 1;
        Tensor magnitude = exp(x.narrow(1, 0, bins));
        Tensor phase = sin(x.narrow(1, bins, bins));
        magnitude = org.bytedeco.pytorch.global.torch.clip(magnitude, new ScalarOptional(), new ScalarOptional(new Scalar(100.0)));
        Tensor real = magnitude.mul(cos(phase));
        Tensor imag = magnitude.mul(sin(phase));
        Tensor complex = view_as_complex(stack(new TensorVector(real, imag), -1).contiguous());
        Tensor wav = istft(complex, nFft, new LongOptional(hop), new LongOptional(nFft), new TensorOptional(stftWindow),
                true, false, new BoolOptional(), new LongOptional(), false);
        // sample m of the window's output is centred on the last level's sample m / hop (the reflected one is 0)
        long first = from * cfg.samplesPerFrame() - sp.lo * hop;
        long count = (to - from) * cfg.samplesPerFrame();
        if (first != 0 || count != wav.size(1)) {
            wav = wav.narrow(1, first, count);
        }
        double lim = cfg.audioLimit();
        return clamp(wav, new ScalarOptional(new Scalar(-lim)), new ScalarOptional(new Scalar(lim)));
    }

    /** Waveform, excitation and F0 of one whole-utterance call. */
    public record Output(Tensor wav, Tensor source, Tensor f0) implements AutoCloseable {
        @Override
        public void close() {
            wav.close();
            source.close();
            f0.close();
        }
    }

    /**
     * Upstream {@code HiFTGenerator.inference}: mel (1, 80, T) to waveform (1, 480 T), with the excitation (1, 1, 480 T)
     * and F0 (1, T). Noise and initial phases come from {@code noise}.
     */
    public Output inference(Tensor mel, SourceNoise noise) {
        try (PointerScope scope = new PointerScope()) {
            SourceModuleHnNSF.PhaseState state = new SourceModuleHnNSF.PhaseState();
            try {
                Tensor f0 = f0_predictor.forward(mel);
                Tensor s = source(f0, state, noise);
                Tensor wav = decodeInScope(mel, s, 0, mel.size(2));
                return new Output(keep(wav), keep(s), keep(f0));
            } finally {
                state.release();
            }
        }
    }

    /** Convenience: waveform only, seeded noise. */
    public Tensor vocode(Tensor mel, long seed) {
        try (SourceNoise noise = SourceNoise.seeded(seed, cfg.harmonics());
             Output out = inference(mel, noise)) {
            out.wav().retainReference();
            return out.wav();
        }
    }

    static Tensor keep(Tensor t) {
        t.retainReference();
        return t;
    }

    @Override
    public void close() {
        weights.close();
    }
}
