package dev.localai.tts.core.model.hift;

import dev.localai.tts.core.nn.Conv;
import java.util.LinkedHashMap;
import org.bytedeco.pytorch.Tensor;

/** A 1-d convolution with bias; its weight is either plain or folded from weight-norm g/v at load. */
final class Conv1d {
    final Tensor weight;
    final Tensor bias;
    final int stride;
    final int padding;
    final int dilation;

    private Conv1d(Tensor weight, Tensor bias, int stride, int padding, int dilation) {
        this.weight = weight;
        this.bias = bias;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
    }

    static Conv1d weightNormed(TensorSource src, Weights w, int in, int out, int k, int stride, int padding,
                               int dilation) {
        Tensor g = src.take("parametrizations.weight.original0", out, 1, 1);
        Tensor v = src.take("parametrizations.weight.original1", out, in, k);
        Tensor weight = w.keep(WeightNorm.fold(g, v));
        Tensor bias = w.keep(src.take("bias", out));
        return new Conv1d(weight, bias, stride, padding, dilation);
    }

    static Conv1d plain(TensorSource src, Weights w, int in, int out, int k, int stride, int padding) {
        Tensor weight = w.keep(src.take("weight", out, in, k));
        Tensor bias = w.keep(src.take("bias", out));
        return new Conv1d(weight, bias, stride, padding, 1);
    }

    static void weightNormedShapes(LinkedHashMap<String, long[]> m, String p, int in, int out, int k) {
        m.put(p + ".bias", new long[] {out});
        m.put(p + WeightNorm.G, new long[] {out, 1, 1});
        m.put(p + WeightNorm.V, new long[] {out, in, k});
    }

    static void plainShapes(LinkedHashMap<String, long[]> m, String p, int in, int out, int k) {
        m.put(p + ".weight", new long[] {out, in, k});
        m.put(p + ".bias", new long[] {out});
    }

    Tensor forward(Tensor x) {
        return Conv.conv1d(x, weight, bias, stride, padding, dilation, 1);
    }
}
