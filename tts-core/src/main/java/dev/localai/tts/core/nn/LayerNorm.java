package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.LayerNorm(dim, eps)} over the last dimension: keys {@code weight}, {@code bias} (dim). */
public final class LayerNorm {
    public final Tensor weight;
    public final Tensor bias;
    private final long[] normalizedShape;
    private final double eps;

    public LayerNorm(ParamSource p, long dim, double eps) {
        this.weight = p.take("weight", dim);
        this.bias = p.take("bias", dim);
        this.normalizedShape = new long[] {dim};
        this.eps = eps;
    }

    /** A layer norm over given weight and bias (dim), owned by the caller (for measurements outside a model). */
    public static LayerNorm of(Tensor weight, Tensor bias, double eps) {
        return new LayerNorm(weight, bias, eps);
    }

    private LayerNorm(Tensor weight, Tensor bias, double eps) {
        this.weight = weight;
        this.bias = bias;
        this.normalizedShape = new long[] {weight.size(0)};
        this.eps = eps;
    }

    public Tensor forward(Tensor x) {
        return torch.layer_norm(x, normalizedShape, new TensorOptional(weight), new TensorOptional(bias), eps, false);
    }

    /**
     * {@code mish(forward(x)) + add} ({@code add}: one value per channel, broadcast over the rows, or null): in one
     * native pass where {@link NormMishKernel} takes the tensors (CPU, fp32 or bf16, contiguous), else LibTorch's
     * operations. Returns a new tensor its caller owns (or its enclosing scope does).
     */
    public Tensor forwardMish(Tensor x, Tensor add) {
        if (NormMishKernel.takes(x, weight, bias, add)) {
            return NormMishKernel.normMish(x, weight, bias, eps, add);
        }
        return Scopes.run(() -> {
            Tensor y = torch.mish(forward(x));
            return add == null ? y : y.add(add.reshape(add.numel()));
        });
    }

    public static void shapes(Map<String, long[]> m, String prefix, long dim) {
        m.put(prefix + ".weight", new long[] {dim});
        m.put(prefix + ".bias", new long[] {dim});
    }
}
