package dev.localai.tts.core.voice.s3tokenizer;

import dev.localai.tts.core.checkpoint.StateDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.Linear}: weight [out, in], optional bias [out]. */
final class Linear implements AutoCloseable {
    final Tensor weight;
    final Tensor bias;

    Linear(StateDict sd, long in, long out, boolean hasBias) {
        this.weight = sd.take("weight", out, in);
        this.bias = hasBias ? sd.take("bias", out) : null;
    }

    Tensor forward(Tensor x) {
        return torch.linear(x, weight, bias == null ? new TensorOptional() : new TensorOptional(bias));
    }

    static void shapes(java.util.Map<String, long[]> m, String p, long in, long out, boolean hasBias) {
        m.put(p + ".weight", new long[] {out, in});
        if (hasBias) {
            m.put(p + ".bias", new long[] {out});
        }
    }

    @Override
    public void close() {
        weight.close();
        if (bias != null) {
            bias.close();
        }
    }
}
