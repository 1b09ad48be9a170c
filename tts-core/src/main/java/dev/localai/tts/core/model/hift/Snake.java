package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.ParamSource;
import static org.bytedeco.pytorch.global.torch.sin;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;

/** Snake activation {@code x + 1/(alpha + 1e-9) * sin(alpha x)^2}, alpha per channel, linear scale. */
final class Snake {
    final Tensor alpha; // [C, 1]: lined up with x [B, C, T]
    final Tensor invAlpha; // 1 / (alpha + 1e-9), [C, 1]

    Snake(ParamSource src, int channels) {
        Tensor a = src.take("alpha", channels);
        this.alpha = src.keep(a.unsqueeze(-1).contiguous());
        src.free(a);
        // Upstream computes 1.0 / (alpha + 1e-9) in float32 at every call; precompute the same values once.
        this.invAlpha = src.keep(alpha.add(new Scalar(1e-9)).reciprocal());
    }

    Tensor forward(Tensor x) {
        Tensor s = sin(x.mul(alpha));
        return x.add(invAlpha.mul(s.mul(s)));
    }
}
