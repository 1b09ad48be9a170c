package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.SnakeKernel;
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

    /**
     * In one native pass where {@link SnakeKernel} takes x (fp32 on the CPU, as HiFT runs there). Else one new tensor,
     * the rest in place: the same elementwise operations in the same order as
     * {@code x + invAlpha * sin(alpha x)^2} (products and sums commute bit for bit), without four temporaries of the
     * input's size (at HiFT's last level, 7.7 MB each per 5 s of audio).
     */
    Tensor forward(Tensor x) {
        if (SnakeKernel.takes(x, alpha, invAlpha)) {
            return SnakeKernel.snake(x, alpha, invAlpha); // one pass: the same operations, its own sine
        }
        Tensor s = x.mul(alpha);
        s.sin_();
        s.mul_(s);
        s.mul_(invAlpha);
        return s.add_(x);
    }
}
