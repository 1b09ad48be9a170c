package dev.localai.tts.core.voice.ref;

import dev.localai.tts.core.audio.MelFilterbank;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * S3Gen's 24 kHz log-mel spectrogram (the {@code prompt_feat} of a reference voice, Matcha-TTS style).
 *
 * <p>n_fft = win = 1920 (periodic Hann), hop 480, 80 Slaney mels 0..8 kHz. The signal is reflect-padded by
 * {@code (1920 - 480) / 2 = 720} samples on both sides and framed without further centring, so there are
 * {@code floor(L / 480)} frames. Magnitude {@code sqrt(re^2 + im^2 + 1e-9)}, mel projection, natural log of
 * {@code max(x, 1e-5)}.
 */
public final class S3GenMel implements AutoCloseable {
    public static final int SAMPLE_RATE = 24000;
    public static final int N_FFT = 1920;
    public static final int HOP = 480;
    public static final int N_MELS = 80;
    public static final double FMIN = 0.0;
    public static final double FMAX = 8000.0;

    private final Tensor melBasis; // (80, 961)
    private final Tensor window;   // (1920)

    public S3GenMel() {
        float[] filters = MelFilterbank.slaneyFlat(SAMPLE_RATE, N_FFT, N_MELS, FMIN, FMAX);
        this.melBasis = Tensor.create(filters, N_MELS, N_FFT / 2 + 1);
        this.window = torch.hann_window(N_FFT);
    }

    /** Frames produced for {@code samples} input samples. */
    public static long frames(long samples) {
        return samples / HOP;
    }

    /**
     * @param wave float32 (L) or (1, L) at 24 kHz
     * @return float32 (1, 80, floor(L/480)); caller owns it
     */
    public Tensor apply(Tensor wave) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor y = wave.reshape(1, -1);
            long len = y.size(1);
            int pad = (N_FFT - HOP) / 2;
            if (len <= pad) {
                throw new IllegalArgumentException("24 kHz reference too short for the mel front-end: " + len);
            }
            Tensor padded = torch.reflection_pad1d(y.unsqueeze(0), pad, pad).squeeze(0).squeeze(0);
            Tensor w = window.to(y.device(), torch.ScalarType.Float);
            Tensor framesT = padded.unfold(0, N_FFT, HOP).mul(w);           // (T, 1920)
            Tensor spec = torch.view_as_real(torch.fft_rfft(framesT));       // (T, 961, 2)
            Tensor mag = spec.pow(new Scalar(2.0)).sum(-1).add(new Scalar(1e-9)).sqrt(); // (T, 961)
            Tensor basis = melBasis.to(y.device(), torch.ScalarType.Float);
            Tensor mel = torch.matmul(basis, mag.t());                       // (80, T)
            out = mel.clamp_min(new Scalar(1e-5)).log().unsqueeze(0).contiguous();
            out.retainReference();
        }
        return out;
    }

    @Override
    public void close() {
        melBasis.close();
        window.close();
    }
}
