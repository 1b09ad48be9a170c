package dev.localai.tts.core.model.s3gen;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.LayerNorm} over the last dimension: keys {@code weight}, {@code bias}. */
final class LayerNorm {
    final Tensor weight;
    final Tensor bias;
    private final TensorOptional w;
    private final TensorOptional b;
    private final long[] normalizedShape;
    private final double eps;

    LayerNorm(ParamSource p, long dim, double eps) {
        this.weight = p.take("weight", dim);
        this.bias = p.take("bias", dim);
        this.w = Scopes.keep(new TensorOptional(weight));
        this.b = Scopes.keep(new TensorOptional(bias));
        this.normalizedShape = new long[] {dim};
        this.eps = eps;
    }

    Tensor forward(Tensor x) {
        return torch.layer_norm(x, normalizedShape, w, b, eps, false);
    }

    static void shapes(java.util.Map<String, long[]> m, String prefix, long dim) {
        m.put(prefix + ".weight", new long[] {dim});
        m.put(prefix + ".bias", new long[] {dim});
    }
}
