package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Hugging Face's GPT-2 {@code Conv1D}: y = x W + b with W stored (in, out) in the checkpoint. The weight is kept
 * transposed to (out, in), contiguous, so one token is a matrix-vector product ({@code addmv}, the fast path on CPU)
 * and many tokens a {@code linear}.
 */
final class Conv1D implements AutoCloseable {
    /** (out, in): the checkpoint's (in, out) weight transposed once at load. */
    final Tensor weight;
    /** (out). */
    final Tensor bias;
    final int nIn;
    final int nOut;

    Conv1D(ParamSource p, int nIn, int nOut) {
        this.nIn = nIn;
        this.nOut = nOut;
        try (Tensor w = p.take("weight", nIn, nOut); Tensor wt = w.t()) {
            this.weight = wt.contiguous().retainReference();
        }
        this.bias = p.take("bias", nOut);
    }

    /** x (..., in) -> (..., out). */
    Tensor forward(Tensor x) {
        return torch.linear(x, weight, new TensorOptional(bias));
    }

    /** out (out) = W x + b for one vector x (in), written into a preallocated {@code out}. */
    void forwardVec(Tensor x, Tensor out) {
        torch.addmv_out(out, bias, weight, x, ONE, ONE);
    }

    static final Scalar ONE = new Scalar(1.0).retainReference();

    @Override
    public void close() {
        weight.close();
        bias.close();
    }
}
