package dev.localai.tts.core.voice;

import dev.localai.tts.core.audio.MelFilterbank;
import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The VoiceEncoder's signal front end, as upstream's {@code embeds_from_wavs} runs it with librosa: leading and
 * trailing silence trimming ({@code effects.trim}) and the linear power mel spectrogram ({@code stft} with
 * centring and reflect padding, periodic Hann, |X|^2, Slaney mel filters; no log).
 */
public final class VoiceEncoderFrontEnd {

    /** librosa {@code effects.trim} defaults. */
    static final int TRIM_FRAME = 2048;
    static final int TRIM_HOP = 512;

    private final VoiceEncoderConfig config;
    private final float[][] melBasis;   // (numMels, nFreq)
    private final double[] window;      // periodic Hann of nFft

    public VoiceEncoderFrontEnd(VoiceEncoderConfig config) {
        this.config = config;
        this.melBasis = MelFilterbank.slaney(config.sampleRate(), config.nFft(), config.numMels(), config.fMin(),
                config.fMax());
        int n = config.nFft();
        this.window = new double[n];
        for (int i = 0; i < n; i++) {
            window[i] = 0.5 - 0.5 * Math.cos(2.0 * Math.PI * i / n);
        }
    }

    /**
     * {@code [start, end)} of the non-silent part: frames (2048 samples, hop 512, zero-padded by 1024 on each side)
     * whose RMS is more than {@code topDb} below the loudest frame's are silent; the interval runs from the first
     * non-silent frame's start to one hop past the last one (capped at the clip length). {@code [0, 0]} when all
     * frames are silent.
     */
    public static int[] trimInterval(float[] y, double topDb) {
        int n = y.length;
        int frames = 1 + n / TRIM_HOP;
        double[] power = new double[frames];
        double maxRms = 0;
        int half = TRIM_FRAME / 2;
        for (int t = 0; t < frames; t++) {
            int lo = t * TRIM_HOP - half;
            int a = Math.max(0, lo);
            int b = Math.min(n, lo + TRIM_FRAME);
            double s = 0;
            for (int i = a; i < b; i++) {
                double v = y[i];
                s += v * v;
            }
            float p = (float) (s / TRIM_FRAME);          // librosa keeps the mean power in float32
            float rms = (float) Math.sqrt(p);
            power[t] = (double) rms * rms;
            maxRms = Math.max(maxRms, rms);
        }
        double ref = 10.0 * Math.log10(Math.max(1e-10, maxRms * maxRms));
        int first = -1, last = -1;
        for (int t = 0; t < frames; t++) {
            double db = 10.0 * Math.log10(Math.max(1e-10, power[t])) - ref;
            if (db > -topDb) {
                if (first < 0) {
                    first = t;
                }
                last = t;
            }
        }
        if (first < 0) {
            return new int[] {0, 0};
        }
        return new int[] {first * TRIM_HOP, Math.min(n, (last + 1) * TRIM_HOP)};
    }

    /** Number of STFT frames for {@code n} samples: {@code 1 + n / hop}. */
    public int frames(int n) {
        return 1 + n / config.hop();
    }

    /**
     * Linear power mel spectrogram, time-first: {@code (1 + n / hop, numMels)} row-major.
     *
     * @throws IllegalArgumentException when the clip is too short to reflect-pad (at most nFft/2 samples)
     */
    public float[] mel(float[] y) {
        int n = y.length;
        int nFft = config.nFft();
        int pad = nFft / 2;
        if (n <= pad) {
            throw new IllegalArgumentException("clip of " + n + " samples is too short for the voice encoder mel");
        }
        int hop = config.hop();
        int frames = frames(n);
        int nFreq = nFft / 2 + 1;
        double[] framed = new double[frames * nFft];
        for (int t = 0; t < frames; t++) {
            int base = t * hop - pad;
            for (int m = 0; m < nFft; m++) {
                int i = base + m;
                if (i < 0) {
                    i = -i;
                } else if (i >= n) {
                    i = 2 * (n - 1) - i;
                }
                framed[t * nFft + m] = y[i] * window[m];
            }
        }
        double[] basis = new double[nFft * 2 * nFreq]; // (nFft, 2*nFreq): cos | sin
        for (int m = 0; m < nFft; m++) {
            for (int k = 0; k < nFreq; k++) {
                double ang = 2.0 * Math.PI * ((long) k * m % nFft) / nFft;
                basis[m * 2 * nFreq + k] = Math.cos(ang);
                basis[m * 2 * nFreq + nFreq + k] = -Math.sin(ang);
            }
        }
        float[] melT = new float[nFreq * config.numMels()]; // (nFreq, numMels)
        for (int b = 0; b < config.numMels(); b++) {
            for (int k = 0; k < nFreq; k++) {
                melT[k * config.numMels() + b] = melBasis[b][k];
            }
        }
        try (PointerScope scope = new PointerScope()) {
            TensorOptions dopt = new TensorOptions(ScalarType.Double);
            TensorOptions fopt = new TensorOptions(ScalarType.Float);
            Tensor fr = torch.from_blob(new DoublePointer(framed), new long[] {frames, nFft}, dopt);
            Tensor bs = torch.from_blob(new DoublePointer(basis), new long[] {nFft, 2L * nFreq}, dopt);
            Tensor spec = fr.matmul(bs);
            Tensor re = spec.narrow(1, 0, nFreq);
            Tensor im = spec.narrow(1, nFreq, nFreq);
            Tensor power = re.mul(re).add(im.mul(im)).to(ScalarType.Float);
            Tensor mb = torch.from_blob(new FloatPointer(melT), new long[] {nFreq, config.numMels()}, fopt);
            Tensor mel = power.matmul(mb).contiguous();
            float[] out = new float[frames * config.numMels()];
            mel.data_ptr_float().get(out);
            return out;
        }
    }
}
