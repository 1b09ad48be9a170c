package dev.localai.tts.core.voice.campplus;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Kaldi-compatible log mel filterbank features as CAMPPlus expects them ({@code compute-fbank-feats} semantics,
 * the defaults of {@code torchaudio.compliance.kaldi.fbank} with 80 bins):
 * 16 kHz, 25 ms frames (400) every 10 ms (160) with snip_edges (frames = 1 + (L - 400) / 160), no dither,
 * per-frame DC removal, pre-emphasis 0.97 (first sample against itself), Povey window (Hann^0.85, symmetric),
 * zero padding to a 512-point FFT, power spectrum, 80 triangular bins on the Kaldi mel scale
 * (1127 ln(1 + f/700)) between 20 Hz and Nyquist, natural log floored at float32 epsilon.
 * {@link #meanNormalized} then subtracts the per-utterance mean over time.
 */
public final class KaldiFbank implements AutoCloseable {
    public static final int SAMPLE_RATE = 16000;
    public static final int FRAME_LENGTH = 400;
    public static final int FRAME_SHIFT = 160;
    public static final int PADDED = 512;
    public static final double PREEMPHASIS = 0.97;
    public static final double LOW_FREQ = 20.0;
    /** numeric_limits&lt;float&gt;::epsilon(). */
    public static final double EPSILON = 1.1920928955078125e-07;

    private final int numMelBins;
    private final Tensor melBanks; // (numMelBins, 257), last column zero
    private final Tensor window;   // (400)

    public KaldiFbank() {
        this(80);
    }

    public KaldiFbank(int numMelBins) {
        this.numMelBins = numMelBins;
        this.melBanks = Tensor.create(melBanks(numMelBins, PADDED, SAMPLE_RATE, LOW_FREQ, 0.0), numMelBins, PADDED / 2 + 1);
        float[] w = new float[FRAME_LENGTH];
        for (int i = 0; i < FRAME_LENGTH; i++) {
            // symmetric Hann (periodic=False), raised to 0.85, in float32 as torch computes it
            float hann = (float) (0.5 - 0.5 * Math.cos(2.0 * Math.PI * i / (FRAME_LENGTH - 1)));
            w[i] = (float) Math.pow(hann, 0.85);
        }
        this.window = Tensor.create(w, FRAME_LENGTH);
    }

    public int numMelBins() {
        return numMelBins;
    }

    public static long frames(long samples) {
        return samples < FRAME_LENGTH ? 0 : 1 + (samples - FRAME_LENGTH) / FRAME_SHIFT;
    }

    /**
     * @param wave float32 (L) in [-1, 1] at 16 kHz
     * @return float32 (T, numMelBins) log filterbank energies; caller owns it
     */
    public Tensor apply(Tensor wave) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = wave.reshape(-1);
            long len = x.size(0);
            if (len < FRAME_LENGTH) {
                throw new IllegalArgumentException("audio too short for fbank: " + len + " samples < " + FRAME_LENGTH);
            }
            Tensor frames = x.unfold(0, FRAME_LENGTH, FRAME_SHIFT);                     // (m, 400)
            frames = frames.sub(frames.mean(new long[] {1}, true, new org.bytedeco.pytorch.ScalarTypeOptional()));
            Tensor prev = torch.cat(new org.bytedeco.pytorch.TensorVector(
                    frames.narrow(1, 0, 1), frames.narrow(1, 0, FRAME_LENGTH - 1)), 1);
            frames = frames.sub(prev.mul(new Scalar(PREEMPHASIS)));
            frames = frames.mul(window.to(x.device(), torch.ScalarType.Float));
            frames = torch.constant_pad_nd(frames, 0, PADDED - FRAME_LENGTH);          // (m, 512)
            // FFT, power and mel projection in double: in spectral valleys the float32 FFT rounding of the
            // frame's loud components dominates the bin energy; double keeps us at the reference's own noise
            Tensor power = torch.fft_rfft(frames.to(torch.ScalarType.Double)).abs().pow(new Scalar(2.0)); // (m, 257)
            Tensor mel = torch.mm(power, melBanks.to(x.device(), torch.ScalarType.Double).t());
            out = mel.clamp_min(new Scalar(EPSILON)).log().to(torch.ScalarType.Float).contiguous();
            out.retainReference();
        }
        return out;
    }

    /** {@link #apply} followed by subtraction of the mean over time (CAMPPlus's feature normalisation). */
    public Tensor meanNormalized(Tensor wave) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor f = apply(wave);
            out = f.sub(f.mean(new long[] {0}, true, new org.bytedeco.pytorch.ScalarTypeOptional())).contiguous();
            out.retainReference();
            f.close();
        }
        return out;
    }

    /**
     * Kaldi mel banks, (numBins, paddedWindow/2 + 1) flattened, the last (Nyquist) column zero.
     * highFreq &lt;= 0 means an offset from Nyquist.
     */
    static float[] melBanks(int numBins, int paddedWindow, double sampleFreq, double lowFreq, double highFreq) {
        int numFftBins = paddedWindow / 2;
        double nyquist = 0.5 * sampleFreq;
        if (highFreq <= 0.0) {
            highFreq += nyquist;
        }
        double fftBinWidth = sampleFreq / paddedWindow;
        double melLow = kaldiMel(lowFreq);
        double melHigh = kaldiMel(highFreq);
        double delta = (melHigh - melLow) / (numBins + 1);
        // evaluated in float32 step by step, as torchaudio does (its tensors are float32)
        float lowF = (float) melLow;
        float deltaF = (float) delta;
        float[] banks = new float[numBins * (numFftBins + 1)];
        for (int b = 0; b < numBins; b++) {
            float left = (float) b * deltaF + lowF;
            float center = ((float) b + 1.0f) * deltaF + lowF;
            float right = ((float) b + 2.0f) * deltaF + lowF;
            for (int k = 0; k < numFftBins; k++) {
                float freq = (float) fftBinWidth * (float) k;
                float mel = 1127.0f * (float) Math.log(1.0f + freq / 700.0f);
                float up = (mel - left) / (center - left);
                float down = (right - mel) / (right - center);
                banks[b * (numFftBins + 1) + k] = Math.max(0.0f, Math.min(up, down));
            }
        }
        return banks;
    }

    static double kaldiMel(double hz) {
        return 1127.0 * Math.log(1.0 + hz / 700.0);
    }

    @Override
    public void close() {
        melBanks.close();
        window.close();
    }
}
