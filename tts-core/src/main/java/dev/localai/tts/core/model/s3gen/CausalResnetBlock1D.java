package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RowConv1d;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * h = block1(x) + mlp.1(Mish(t_emb)) (broadcast over time); h = block2(h); out = h + res_conv(x), res_conv a k=1 conv.
 * Over rows (B, T, C), as the estimator keeps its sequences.
 */
final class CausalResnetBlock1D {
    /** key {@code mlp.1} (mlp.0 is the Mish) */
    final Linear mlp1;
    final CausalBlock1D block1;
    final CausalBlock1D block2;
    final RowConv1d res_conv;

    CausalResnetBlock1D(ParamSource p, long dim, long dimOut, long timeEmbDim) {
        this.mlp1 = new Linear(p.sub("mlp.1"), timeEmbDim, dimOut, true);
        this.block1 = new CausalBlock1D(p.sub("block1"), dim, dimOut);
        this.block2 = new CausalBlock1D(p.sub("block2"), dimOut, dimOut);
        this.res_conv = RowConv1d.padded(p.sub("res_conv"), dim, dimOut, 1, 0, 0);
    }

    /** x (B, T, C), timeEmb (B, E) -> (B, T, C_out). */
    Tensor forward(Tensor x, Tensor timeEmb) {
        return Scopes.run(() -> {
            Tensor t = mlp1.forward(torch.mish(timeEmb)); // (B, C_out)
            Tensor h = t.size(0) == 1 ? block1.forward(x, t) : block1.forward(x).add(t.unsqueeze(1));
            h = block2.forward(h);
            return h.add(res_conv.forward(x));
        });
    }

    static void shapes(Map<String, long[]> m, String prefix, long dim, long dimOut, long timeEmbDim) {
        CausalBlock1D.shapes(m, prefix + ".block1", dim, dimOut);
        CausalBlock1D.shapes(m, prefix + ".block2", dimOut, dimOut);
        Linear.shapes(m, prefix + ".mlp.1", timeEmbDim, dimOut, true);
        RowConv1d.shapes(m, prefix + ".res_conv", dim, dimOut, 1);
    }
}
