package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/** {@code nn.Linear(in, out)}: weight (out, in), optional bias (out). */
final class Linear implements AutoCloseable {
    final Tensor weight;
    final Tensor bias;

    Linear(ParamSource p, int nIn, int nOut, boolean withBias) {
        this.weight = p.take("weight", nOut, nIn);
        this.bias = withBias ? p.take("bias", nOut) : null;
    }

    /** x (..., in) -> (..., out). */
    Tensor forward(Tensor x) {
        return bias == null ? torch.linear(x, weight) : torch.linear(x, weight, new TensorOptional(bias));
    }

    /** out (out) = W x + b for one vector x (in), written into a preallocated {@code out}. */
    void forwardVec(Tensor x, Tensor out) {
        SplitGemm.shared().mv(weight, bias, x, out);
    }

    /** Rows x (n, in) -> {@code out} (n, out), see {@link Conv1D#forwardRows}. */
    void forwardRows(Tensor x, Tensor out, Tensor tmp, SplitGemm gemm) {
        Conv1D.forwardRows(weight, bias, x, out, tmp, gemm);
    }

    @Override
    public void close() {
        weight.close();
        if (bias != null) {
            bias.close();
        }
    }
}
