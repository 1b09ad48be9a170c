package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Linear(in, out, bias)}: keys {@code weight} (out, in) and, when present, {@code bias} (out). */
public final class Linear {
    public final Tensor weight;
    /** Null without a bias. */
    public final Tensor bias;

    public Linear(ParamSource p, long in, long out, boolean hasBias) {
        this.weight = p.take("weight", out, in);
        this.bias = hasBias ? p.take("bias", out) : null;
    }

    /** x (..., in) -> (..., out). */
    public Tensor forward(Tensor x) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }

    /** The keys of one Linear with their shapes, for checkpoint writers and shape checks. */
    public static void shapes(Map<String, long[]> m, String prefix, long in, long out, boolean hasBias) {
        m.put(prefix + ".weight", new long[] {out, in});
        if (hasBias) {
            m.put(prefix + ".bias", new long[] {out});
        }
    }
}
