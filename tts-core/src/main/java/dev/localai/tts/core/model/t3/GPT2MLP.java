package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.ParamSource;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** GPT-2 MLP: {@code c_fc} (D -> 4D), {@code gelu_new} (tanh approximation), {@code c_proj} (4D -> D). */
final class GPT2MLP {
    final Conv1D c_fc;
    final Conv1D c_proj;

    GPT2MLP(ParamSource p, T3Config c, boolean int8) {
        this.c_fc = new Conv1D(p.sub("c_fc"), c.nEmbd(), c.nInner(), int8);
        this.c_proj = new Conv1D(p.sub("c_proj"), c.nInner(), c.nEmbd(), int8);
    }

    Tensor forward(Tensor h) {
        Tensor a = c_fc.forward(h);
        torch.gelu_(a, "tanh");
        return c_proj.forward(a);
    }

    /** One token: h (D) -> {@code buf.proj}. */
    void step(Tensor h, DecodeBuffers buf) {
        c_fc.forwardVec(h, buf.inner);
        torch.gelu_(buf.inner, "tanh");
        c_proj.forwardVec(buf.inner, buf.proj);
    }

    /** n rows: h (n, D) -> the first n rows of {@code bb.proj}. */
    void stepRows(Tensor h, int n, BatchBuffers bb) {
        Tensor inner = BatchBuffers.rows(bb.inner, n);
        c_fc.forwardRows(h, inner, bb.scratch, bb.gemm);
        torch.gelu_(inner, "tanh");
        c_proj.forwardRows(inner, BatchBuffers.rows(bb.proj, n), bb.scratch, bb.gemm);
    }
}
