package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Conv;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.nn.Conv1d} (stride 1, dilation 1, groups 1, no built-in padding) with explicit zero padding on the
 * left and right of the time axis, which covers upstream's causal convs ({@code CausalConv1d}: left k-1), the
 * pre-lookahead convs and the encoder upsampler. Keys {@code weight} [out, in, k], {@code bias} [out].
 */
final class Conv1d {
    final Tensor weight;
    final Tensor bias;
    private final long padLeft;
    private final long padRight;

    Conv1d(ParamSource p, long in, long out, long kernel, long padLeft, long padRight) {
        this.weight = p.take("weight", out, in, kernel);
        this.bias = p.take("bias", out);
        this.padLeft = padLeft;
        this.padRight = padRight;
    }

    /** Causal conv: left-pads {@code kernel - 1} zeros. */
    static Conv1d causal(ParamSource p, long in, long out, long kernel) {
        return new Conv1d(p, in, out, kernel, kernel - 1, 0);
    }

    /** x: (B, C, T) -> (B, out, T + padLeft + padRight - k + 1). */
    Tensor forward(Tensor x) {
        Tensor in = (padLeft == 0 && padRight == 0) ? x : torch.constant_pad_nd(x, padLeft, padRight);
        return Conv.conv1d(in, weight, bias, 1, 0, 1, 1);
    }

    static void shapes(java.util.Map<String, long[]> m, String prefix, long in, long out, long kernel) {
        m.put(prefix + ".weight", new long[] {out, in, kernel});
        m.put(prefix + ".bias", new long[] {out});
    }
}
