package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.Int8Matrix;
import org.bytedeco.javacpp.PointerScope;

import dev.localai.tts.core.nn.ParamSource;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Hugging Face's GPT-2 {@code Conv1D}: y = x W + b with W stored (in, out) in the checkpoint. The weight is kept
 * transposed to (out, in), contiguous, so one token is a matrix-vector product ({@code addmv}, the fast path on CPU)
 * and many tokens a {@code linear}, both split over the cores by {@link SplitGemm#shared()}.
 */
final class Conv1D {
    /** (out, in): the checkpoint's (in, out) weight transposed once at load; null when {@link #int8} holds it. */
    final Tensor weight;
    /** The weight in int8 with per-row scales (T3 loaded with int8 weights), else null. */
    final Int8Matrix int8;
    /** (out). */
    final Tensor bias;
    final int nIn;
    final int nOut;

    /**
     * @param int8 keep the weight as an {@link Int8Matrix} (fp32 in, fp32 out) instead of in the source's dtype
     */
    Conv1D(ParamSource p, int nIn, int nOut, boolean int8) {
        this.nIn = nIn;
        this.nOut = nOut;
        Tensor w = p.take("weight", nIn, nOut);
        try (PointerScope scope = new PointerScope()) {
            if (int8) {
                // quantized from the transposed view (only the int8 result is copied); packed later, by T3, with
                // the other blocks' matrices over the cores
                this.int8 = Int8Matrix.quantizeUnpacked(w.t(), p);
                this.weight = null;
            } else {
                this.int8 = null;
                this.weight = p.keep(w.t().contiguous());
            }
        }
        p.free(w);
        this.bias = p.take("bias", nOut);
    }

    /** x (..., in) -> (..., out). */
    Tensor forward(Tensor x) {
        if (int8 != null) {
            return int8.forward(x, bias);
        }
        return SplitGemm.shared().linear(x, weight, bias);
    }

    /** out (out) = W x + b for one vector x (in), written into a preallocated {@code out}. */
    void forwardVec(Tensor x, Tensor out) {
        if (int8 != null) {
            int8.forwardVec(x, bias, out);
            return;
        }
        SplitGemm.shared().mv(weight, bias, x, out);
    }

    /**
     * Many rows at once, into preallocated buffers: {@code out} (n, out) = x (n, in) W^T + b. One row takes the
     * single-vector path (bitwise the same as {@link #forwardVec}); more rows are one GEMM {@code W x^T} into the
     * flat scratch {@code tmp} (at least out * n elements), then transposed into {@code out} with the bias added.
     */
    void forwardRows(Tensor x, Tensor out, Tensor tmp, SplitGemm gemm) {
        if (int8 != null) {
            int8.forwardRows(x, bias, out);
            return;
        }
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
        if (x.is_cuda()) {
            // one launch: the transposed product below is for the CPU's GEMMs
            if (bias == null) {
                torch.mm_out(out, x, weight.t());
            } else {
                torch.addmm_out(out, bias, x, weight.t(), ONE, ONE);
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
}
