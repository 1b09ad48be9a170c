package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Inference-mode {@code torch.nn.BatchNorm1d/2d} (eps 1e-5) with running statistics; {@code affine=false} has no
 * weight/bias. {@code num_batches_tracked} is consumed but unused.
 */
public final class BatchNorm {
    public static final double EPS = 1e-5;

    public final Tensor weight;
    public final Tensor bias;
    public final Tensor running_mean;
    public final Tensor running_var;

    public BatchNorm(ParamSource p, long channels, boolean affine) {
        this.weight = affine ? p.take("weight", channels) : null;
        this.bias = affine ? p.take("bias", channels) : null;
        this.running_mean = p.take("running_mean", channels);
        this.running_var = p.take("running_var", channels);
        if (p.has("num_batches_tracked")) {
            p.skip("num_batches_tracked");
        }
    }

    /**
     * Keys of one BatchNorm. {@code num_batches_tracked} is listed with shape [1], as the tiny golden checkpoint
     * stores it (torch itself keeps a 0-d tensor; the loader accepts either).
     */
    public static void shapes(Map<String, long[]> m, String p, long channels, boolean affine) {
        if (affine) {
            m.put(p + ".weight", new long[] {channels});
            m.put(p + ".bias", new long[] {channels});
        }
        m.put(p + ".running_mean", new long[] {channels});
        m.put(p + ".running_var", new long[] {channels});
        m.put(p + ".num_batches_tracked", new long[] {1});
    }

    public Tensor forward(Tensor x) {
        return torch.batch_norm(x, opt(weight), opt(bias), new TensorOptional(running_mean),
                new TensorOptional(running_var), false, 0.1, EPS, true);
    }

    private static TensorOptional opt(Tensor t) {
        return t == null ? new TensorOptional() : new TensorOptional(t);
    }
}
