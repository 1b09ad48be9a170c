package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.Conv;
import java.util.LinkedHashMap;
import org.bytedeco.pytorch.Tensor;

/** A weight-normed transposed 1-d convolution (weight [in, out, k]; g per input channel). */
final class ConvTranspose1d {
    final Tensor weight;
    final Tensor bias;
    final int stride;
    final int padding;

    ConvTranspose1d(TensorSource src, Weights w, int in, int out, int k, int stride, int padding) {
        Tensor g = src.take("parametrizations.weight.original0", in, 1, 1);
        Tensor v = src.take("parametrizations.weight.original1", in, out, k);
        this.weight = w.keep(WeightNorm.fold(g, v));
        this.bias = w.keep(src.take("bias", out));
        this.stride = stride;
        this.padding = padding;
    }

    static void shapes(LinkedHashMap<String, long[]> m, String p, int in, int out, int k) {
        m.put(p + ".bias", new long[] {out});
        m.put(p + WeightNorm.G, new long[] {in, 1, 1});
        m.put(p + WeightNorm.V, new long[] {in, out, k});
    }

    Tensor forward(Tensor x) {
        return Conv.convTranspose1d(x, weight, bias, stride, padding, 0, 1, 1);
    }
}
