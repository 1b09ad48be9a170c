package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.LayerNorm(dim, eps)} over the last dimension. */
final class LayerNorm implements AutoCloseable {
    final Tensor weight;
    final Tensor bias;
    private final long[] shape;
    private final double eps;

    LayerNorm(ParamSource p, int dim, double eps) {
        this.weight = p.take("weight", dim);
        this.bias = p.take("bias", dim);
        this.shape = new long[] {dim};
        this.eps = eps;
    }

    Tensor forward(Tensor x) {
        return torch.layer_norm(x, shape, new TensorOptional(weight), new TensorOptional(bias), eps, false);
    }

    @Override
    public void close() {
        weight.close();
        bias.close();
    }
}
