package dev.localai.tts.core.model.s3gen;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Linear}: keys {@code weight} [out, in] and, when present, {@code bias} [out]. */
final class Linear {
    final Tensor weight;
    final Tensor bias;
    private final TensorOptional biasOpt;

    Linear(ParamSource p, long in, long out, boolean hasBias) {
        this.weight = p.take("weight", out, in);
        this.bias = hasBias ? p.take("bias", out) : null;
        this.biasOpt = Scopes.keep(hasBias ? new TensorOptional(bias) : new TensorOptional());
    }

    Tensor forward(Tensor x) {
        return torch.linear(x, weight, biasOpt);
    }

    static void shapes(java.util.Map<String, long[]> m, String prefix, long in, long out, boolean hasBias) {
        m.put(prefix + ".weight", new long[] {out, in});
        if (hasBias) {
            m.put(prefix + ".bias", new long[] {out});
        }
    }
}
