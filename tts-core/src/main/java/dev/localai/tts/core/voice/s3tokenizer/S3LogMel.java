package dev.localai.tts.core.voice.s3tokenizer;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Whisper-style log-mel front-end of the S3 tokenizer, 16 kHz in.
 *
 * <p>Centred STFT (reflect padding n_fft/2 on both sides), n_fft = win = 400 with the checkpoint's window buffer,
 * hop 160; the last frame is dropped, so there are {@code floor(L/160)} frames. Power spectrum, projection with the
 * checkpoint's 128 x 201 mel filters, {@code log10(max(x, 1e-10))}, floored at (global max - 8), then
 * {@code (x + 4) / 4}.
 */
public final class S3LogMel {
    public static final int SAMPLE_RATE = 16000;
    public static final int N_FFT = 400;
    public static final int HOP = 160;

    private S3LogMel() {
    }

    /** Number of mel frames for {@code samples} 16 kHz samples. */
    public static long frames(long samples) {
        return samples / HOP;
    }

    /**
     * @param wave    float32 (L) or (1, L) at 16 kHz
     * @param window  float32 (400)
     * @param filters float32 (n_mels, 201)
     * @return float32 (1, n_mels, floor(L/160)); caller owns it
     */
    public static Tensor compute(Tensor wave, Tensor window, Tensor filters) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = wave.reshape(1, 1, -1);
            long len = x.size(2);
            if (len <= N_FFT / 2) {
                throw new IllegalArgumentException("16 kHz audio too short for the S3 tokenizer: " + len + " samples");
            }
            Tensor padded = torch.reflection_pad1d(x, N_FFT / 2, N_FFT / 2).reshape(-1);
            Tensor frames = padded.unfold(0, N_FFT, HOP);                          // (1 + L/160, 400)
            frames = frames.narrow(0, 0, frames.size(0) - 1).mul(window);            // drop the last frame
            Tensor power = torch.fft_rfft(frames).abs().pow(new Scalar(2.0));        // (T, 201)
            Tensor mel = torch.matmul(filters, power.t());                           // (n_mels, T)
            Tensor logSpec = mel.clamp_min(new Scalar(1e-10)).log10();
            Tensor floor = logSpec.max().sub(new Scalar(8.0));
            logSpec = torch.maximum(logSpec, floor);
            out = logSpec.add(new Scalar(4.0)).div(new Scalar(4.0)).unsqueeze(0).contiguous();
            out.retainReference();
        }
        return out;
    }
}
