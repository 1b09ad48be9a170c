package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * A weight-normed {@code torch.nn.ConvTranspose1d} with a bias (weight (in, out, k); g per input channel), folded
 * at load, through the {@link Conv} gateway.
 */
public final class ConvTranspose1d {
    public final Tensor weight;
    public final Tensor bias;
    private final long stride;
    private final long padding;

    private ConvTranspose1d(Tensor weight, Tensor bias, long stride, long padding) {
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
    }

    public static ConvTranspose1d weightNormed(ParamSource p, long in, long out, long k, long stride,
                                               long padding) {
        Tensor weight = WeightNorm.take(p, new long[] {in, 1, 1}, new long[] {in, out, k});
        return new ConvTranspose1d(weight, p.take("bias", out), stride, padding);
    }

    public Tensor forward(Tensor x) {
        return Conv.convTranspose1d(x, weight, bias, stride, padding, 0, 1, 1);
    }

    public static void weightNormedShapes(Map<String, long[]> m, String prefix, long in, long out, long k) {
        m.put(prefix + ".bias", new long[] {out});
        m.put(prefix + WeightNorm.G, new long[] {in, 1, 1});
        m.put(prefix + WeightNorm.V, new long[] {in, out, k});
    }
}
