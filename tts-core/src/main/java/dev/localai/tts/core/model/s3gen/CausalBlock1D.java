package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RowConv1d;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Mish(LayerNorm_channels(CausalConv1d_k3(x))): {@code block.0} the causal conv, {@code block.2} the LayerNorm over
 * channels. The estimator keeps its sequences as rows (B, T, C), so the conv runs over rows ({@link RowConv1d}) and
 * the LayerNorm needs no transposes. The frame mask is all ones for a single utterance.
 */
final class CausalBlock1D {
    /** key {@code block.0} */
    final RowConv1d block0;
    /** key {@code block.2} */
    final LayerNorm block2;

    CausalBlock1D(ParamSource p, long dim, long dimOut) {
        this.block0 = RowConv1d.causal(p.sub("block.0"), dim, dimOut, 3);
        this.block2 = new LayerNorm(p.sub("block.2"), dimOut, 1e-5);
    }

    /** Rows (B, T, C) -> (B, T, C_out). */
    Tensor forward(Tensor x) {
        return forward(x, null);
    }

    /**
     * {@link #forward(Tensor)} + {@code add} (C_out values, broadcast over rows and batch; null for none), the norm, the
     * Mish and the add in one pass ({@link LayerNorm#forwardMish}).
     */
    Tensor forward(Tensor x, Tensor add) {
        return Scopes.run(() -> block2.forwardMish(block0.forward(x), add));
    }

    static void shapes(Map<String, long[]> m, String prefix, long dim, long dimOut) {
        RowConv1d.shapes(m, prefix + ".block.0", dim, dimOut, 3);
        LayerNorm.shapes(m, prefix + ".block.2", dimOut);
    }
}
