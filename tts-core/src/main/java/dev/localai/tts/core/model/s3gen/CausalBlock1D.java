package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Conv1d;
import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * Mish(LayerNorm_channels(CausalConv1d_k3(x))): {@code block.0} the causal conv, {@code block.2} the LayerNorm
 * (applied over channels by transposing to (B, T, C)). The frame mask is all ones for a single utterance.
 */
final class CausalBlock1D {
    /** key {@code block.0} */
    final Conv1d block0;
    /** key {@code block.2} */
    final LayerNorm block2;

    CausalBlock1D(ParamSource p, long dim, long dimOut) {
        this.block0 = Conv1d.causal(p.sub("block.0"), dim, dimOut, 3);
        this.block2 = new LayerNorm(p.sub("block.2"), dimOut, 1e-5);
    }

    /** (B, C, T) -> (B, C_out, T). */
    Tensor forward(Tensor x) {
        return Scopes.run(() -> {
            Tensor y = block0.forward(x).transpose(1, 2);
            y = block2.forward(y).transpose(1, 2);
            return torch.mish(y);
        });
    }

    static void shapes(Map<String, long[]> m, String prefix, long dim, long dimOut) {
        Conv1d.shapes(m, prefix + ".block.0", dim, dimOut, 3);
        LayerNorm.shapes(m, prefix + ".block.2", dimOut);
    }
}
