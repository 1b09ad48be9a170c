package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.nn.Conv1d} with a bias (groups 1), through the {@link Conv} gateway: keys {@code weight}
 * (out, in, k) and {@code bias} (out), or the weight-norm pair (see {@link WeightNorm}) folded at load. Besides the
 * symmetric {@code padding}, explicit zero padding left and right of the time axis covers upstream's causal convs
 * ({@code CausalConv1d}: k - 1 on the left) and look-ahead convs.
 */
public final class Conv1d {
    public final Tensor weight;
    public final Tensor bias;
    private final long stride;
    private final long padding;
    private final long dilation;
    private final long padLeft;
    private final long padRight;

    private Conv1d(Tensor weight, Tensor bias, long stride, long padding, long dilation, long padLeft,
                   long padRight) {
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.padLeft = padLeft;
        this.padRight = padRight;
    }

    /** {@code nn.Conv1d(in, out, k, stride, padding, dilation)}. */
    public static Conv1d of(ParamSource p, long in, long out, long k, long stride, long padding, long dilation) {
        Tensor weight = p.take("weight", out, in, k);
        return new Conv1d(weight, p.take("bias", out), stride, padding, dilation, 0, 0);
    }

    /** Stride 1 with {@code padLeft} zeros before and {@code padRight} after the time axis. */
    public static Conv1d padded(ParamSource p, long in, long out, long k, long padLeft, long padRight) {
        Tensor weight = p.take("weight", out, in, k);
        return new Conv1d(weight, p.take("bias", out), 1, 0, 1, padLeft, padRight);
    }

    /** Causal conv: left-pads {@code k - 1} zeros. */
    public static Conv1d causal(ParamSource p, long in, long out, long k) {
        return padded(p, in, out, k, k - 1, 0);
    }

    /** A weight-normed conv ({@code torch.nn.utils.parametrizations.weight_norm}), folded at load. */
    public static Conv1d weightNormed(ParamSource p, long in, long out, long k, long stride, long padding,
                                      long dilation) {
        Tensor weight = WeightNorm.take(p, new long[] {out, 1, 1}, new long[] {out, in, k});
        return new Conv1d(weight, p.take("bias", out), stride, padding, dilation, 0, 0);
    }

    /** x (B, in, T) -> (B, out, T'). */
    public Tensor forward(Tensor x) {
        Tensor in = (padLeft == 0 && padRight == 0) ? x : torch.constant_pad_nd(x, padLeft, padRight);
        return Conv.conv1d(in, weight, bias, stride, padding, dilation, 1);
    }

    public static void shapes(Map<String, long[]> m, String prefix, long in, long out, long k) {
        m.put(prefix + ".weight", new long[] {out, in, k});
        m.put(prefix + ".bias", new long[] {out});
    }

    public static void weightNormedShapes(Map<String, long[]> m, String prefix, long in, long out, long k) {
        m.put(prefix + ".bias", new long[] {out});
        m.put(prefix + WeightNorm.G, new long[] {out, 1, 1});
        m.put(prefix + WeightNorm.V, new long[] {out, in, k});
    }
}
