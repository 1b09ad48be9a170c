package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code torch.nn.Linear(in, out, bias)}: keys {@code weight} (out, in) and, when present, {@code bias} (out). */
public final class Linear {
    private static final Scalar ONE = new Scalar(1.0);

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

    /** out (out) = W x + b for one vector x (in), written into a preallocated {@code out} (no allocation). */
    public void forwardVec(Tensor x, Tensor out) {
        if (bias == null) {
            torch.mv_out(out, weight, x);
        } else {
            torch.addmv_out(out, bias, weight, x, ONE, ONE);
        }
    }

    /** The keys of one Linear with their shapes, for checkpoint writers and shape checks. */
    public static void shapes(Map<String, long[]> m, String prefix, long in, long out, boolean hasBias) {
        m.put(prefix + ".weight", new long[] {out, in});
        if (hasBias) {
            m.put(prefix + ".bias", new long[] {out});
        }
    }
}
