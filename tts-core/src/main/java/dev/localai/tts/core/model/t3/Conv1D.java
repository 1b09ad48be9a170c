package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Hugging Face's GPT-2 {@code Conv1D}: y = x W + b with W stored (in, out) in the checkpoint. The weight is kept
 * transposed to (out, in), contiguous, so one token is a matrix-vector product ({@code addmv}, the fast path on CPU)
 * and many tokens a {@code linear}, both split over the cores by {@link SplitGemm#shared()}.
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
        return SplitGemm.shared().linear(x, weight, bias);
    }

    /** out (out) = W x + b for one vector x (in), written into a preallocated {@code out}. */
    void forwardVec(Tensor x, Tensor out) {
        SplitGemm.shared().mv(weight, bias, x, out);
    }

    /**
     * Many rows at once, into preallocated buffers: {@code out} (n, out) = x (n, in) W^T + b. One row takes the
     * single-vector path (bitwise the same as {@link #forwardVec}); more rows are one GEMM {@code W x^T} into the
     * flat scratch {@code tmp} (at least out * n elements), then transposed into {@code out} with the bias added.
     */
    void forwardRows(Tensor x, Tensor out, Tensor tmp, SplitGemm gemm) {
        forwardRows(weight, bias, x, out, tmp, gemm);
    }

    static void forwardRows(Tensor weight, Tensor bias, Tensor x, Tensor out, Tensor tmp, SplitGemm gemm) {
        long n = x.size(0);
        if (n == 1) {
            Tensor o = out.select(0, 0);
            if (bias == null) {
                torch.mv_out(o, weight, x.select(0, 0));
            } else {
                torch.addmv_out(o, bias, weight, x.select(0, 0), ONE, ONE);
            }
            return;
        }
        long nOut = weight.size(0);
        Tensor t = tmp.narrow(0, 0, nOut * n).view(nOut, n);
        gemm.mm(weight, x.t(), t);
        out.copy_(t.t());
        if (bias != null) {
            out.add_(bias);
        }
    }

    static final Scalar ONE = new Scalar(1.0).retainReference();

    @Override
    public void close() {
        weight.close();
        bias.close();
    }
}
