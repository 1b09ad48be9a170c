package dev.localai.tts.core.model.hift;

import static org.bytedeco.pytorch.global.torch.cos;
import static org.bytedeco.pytorch.global.torch.linspace;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/**
 * S3Gen's start-of-utterance fade, applied after the vocoder: the first {@code sr/50} samples (20 ms) are zeroed and
 * the next {@code sr/50} rise as {@code (cos(linspace(pi, 0, n)) + 1) / 2}; everything after is untouched.
 */
public final class TrimFade {
    private TrimFade() {
    }

    /** The fade window (2 n,) float32 with n = sampleRate / 50. Caller owns the result. */
    public static Tensor window(int sampleRate) {
        int n = sampleRate / 50;
        try (PointerScope scope = new PointerScope()) {
            Tensor ramp = cos(linspace(new Scalar(Math.PI), new Scalar(0.0), n)).add(new Scalar(1.0)).div(new Scalar(2.0));
            Tensor w = org.bytedeco.pytorch.global.torch.cat(new org.bytedeco.pytorch.TensorVector(
                    org.bytedeco.pytorch.global.torch.zeros(n), ramp), 0);
            w.retainReference();
            return w;
        }
    }

    /**
     * Multiplies, in place, the samples of {@code wav} (1, L) that fall inside the fade, where {@code wav} starts at
     * sample {@code offset} of the utterance. Returns {@code wav}.
     */
    public static Tensor applyInPlace(Tensor wav, long offset, int sampleRate) {
        long fadeLen = 2L * (sampleRate / 50);
        if (offset >= fadeLen) {
            return wav;
        }
        try (PointerScope scope = new PointerScope()) {
            Tensor w = window(sampleRate);
            long len = Math.min(wav.size(-1), fadeLen - offset);
            if (len > 0) {
                Tensor part = wav.narrow(-1, 0, len);
                part.mul_(w.narrow(0, offset, len).to(wav.device(), wav.scalar_type()));
            }
            w.close();
        }
        return wav;
    }
}
