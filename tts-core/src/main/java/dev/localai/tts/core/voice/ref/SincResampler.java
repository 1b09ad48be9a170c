package dev.localai.tts.core.voice.ref;

import dev.localai.tts.core.nn.Conv;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Band-limited windowed-sinc resampler with a Hann window, numerically equivalent to torchaudio's
 * {@code Resample(orig, new)} with its defaults (sinc_interp_hann, lowpass_filter_width 6, rolloff 0.99).
 *
 * <p>The rate ratio is reduced by the gcd to {@code o -> n}. The polyphase kernel has {@code n} phases of
 * {@code 2*width + o} taps, {@code width = ceil(6*o / (min(o,n)*0.99))}; it is evaluated in double precision and
 * stored as float32. The signal is zero-padded by {@code width} on the left and {@code width + o} on the right,
 * convolved with stride {@code o}, the phases interleaved, and the result cut to {@code ceil(n*L/o)} samples.
 * S3Gen's {@code embed_ref} uses it for 24 kHz -> 16 kHz (o = 3, n = 2, width 10, 23 taps).
 */
public final class SincResampler implements AutoCloseable {
    private final int origFreq;
    private final int newFreq;
    private final int width;
    private final Tensor kernel; // (n, 1, 2*width + o), float32

    public SincResampler(int origSampleRate, int newSampleRate) {
        this(origSampleRate, newSampleRate, 6, 0.99);
    }

    public SincResampler(int origSampleRate, int newSampleRate, int lowpassFilterWidth, double rolloff) {
        if (origSampleRate <= 0 || newSampleRate <= 0) {
            throw new IllegalArgumentException("sample rates must be positive");
        }
        if (lowpassFilterWidth <= 0) {
            throw new IllegalArgumentException("lowpass filter width must be positive");
        }
        int g = gcd(origSampleRate, newSampleRate);
        this.origFreq = origSampleRate / g;
        this.newFreq = newSampleRate / g;
        double baseFreq = Math.min(origFreq, newFreq) * rolloff;
        this.width = (int) Math.ceil(lowpassFilterWidth * (double) origFreq / baseFreq);
        int taps = 2 * width + origFreq;
        float[] k = new float[newFreq * taps];
        double scale = baseFreq / origFreq;
        for (int phase = 0; phase < newFreq; phase++) {
            // torchaudio builds the phase offsets from an integer arange divided in float32
            double phaseOffset = (float) -phase / (float) newFreq;
            for (int i = 0; i < taps; i++) {
                double idx = (double) (i - width) / origFreq;
                double t = (phaseOffset + idx) * baseFreq;
                t = Math.max(-lowpassFilterWidth, Math.min(lowpassFilterWidth, t));
                double c = Math.cos(t * Math.PI / lowpassFilterWidth / 2);
                double window = c * c;
                t *= Math.PI;
                double sinc = t == 0.0 ? 1.0 : Math.sin(t) / t;
                k[phase * taps + i] = (float) (sinc * (window * scale));
            }
        }
        this.kernel = Tensor.create(k, newFreq, 1, taps);
    }

    /** Output length for {@code inputLength} input samples: ceil(n * L / o). */
    public long outputLength(long inputLength) {
        return (long) Math.ceil((double) newFreq * inputLength / origFreq);
    }

    /**
     * Resamples a float32 signal shaped (L) or (B, L). Returns a new tensor with the same leading shape; the
     * caller owns it.
     */
    public Tensor apply(Tensor wave) {
        if (origFreq == newFreq) {
            return wave.clone();
        }
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            long[] shape = wave.shape();
            long length = shape[shape.length - 1];
            Tensor x = wave.reshape(-1, length);
            long batch = x.size(0);
            Tensor k = kernel.to(x.device(), torch.ScalarType.Float);
            Tensor padded = torch.constant_pad_nd(x, width, width + origFreq);
            Tensor conv = Conv.conv1d(padded.unsqueeze(1), k, null, origFreq, 0, 1, 1);
            Tensor inter = conv.transpose(1, 2).reshape(batch, -1);
            long target = outputLength(length);
            Tensor cut = inter.narrow(1, 0, target);
            long[] outShape = shape.clone();
            outShape[outShape.length - 1] = target;
            out = cut.reshape(outShape).contiguous();
            out.retainReference();
        }
        return out;
    }

    @Override
    public void close() {
        kernel.close();
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }
}
