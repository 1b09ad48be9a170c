package dev.localai.tts.core.voice.campplus;

import dev.localai.tts.core.checkpoint.StateDict;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Inference-mode BatchNorm (1d or 2d, eps 1e-5) with running statistics; {@code affine=false} has no weight/bias.
 * {@code num_batches_tracked} is consumed but unused.
 */
final class BatchNorm implements AutoCloseable {
    static final double EPS = 1e-5;

    final Tensor weight;
    final Tensor bias;
    final Tensor runningMean;
    final Tensor runningVar;

    BatchNorm(StateDict sd, long channels, boolean affine) {
        this.weight = affine ? sd.take("weight", channels) : null;
        this.bias = affine ? sd.take("bias", channels) : null;
        this.runningMean = sd.take("running_mean", channels);
        this.runningVar = sd.take("running_var", channels);
        if (sd.has("num_batches_tracked")) {
            sd.skip("num_batches_tracked");
        }
    }

    /**
     * Keys of one BatchNorm. {@code num_batches_tracked} is listed with shape [1], as the tiny golden checkpoint
     * stores it (torch itself keeps a 0-d tensor; the loader accepts either).
     */
    static void shapes(Map<String, long[]> m, String p, long channels, boolean affine) {
        if (affine) {
            m.put(p + ".weight", new long[] {channels});
            m.put(p + ".bias", new long[] {channels});
        }
        m.put(p + ".running_mean", new long[] {channels});
        m.put(p + ".running_var", new long[] {channels});
        m.put(p + ".num_batches_tracked", new long[] {1});
    }

    Tensor forward(Tensor x) {
        return torch.batch_norm(x, opt(weight), opt(bias), new TensorOptional(runningMean),
                new TensorOptional(runningVar), false, 0.1, EPS, true);
    }

    private static TensorOptional opt(Tensor t) {
        return t == null ? new TensorOptional() : new TensorOptional(t);
    }

    @Override
    public void close() {
        if (weight != null) {
            weight.close();
            bias.close();
        }
        runningMean.close();
        runningVar.close();
    }
}
