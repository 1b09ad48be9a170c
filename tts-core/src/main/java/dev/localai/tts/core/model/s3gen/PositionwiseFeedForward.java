package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/** Conformer feed-forward: w_2(SiLU(w_1(x))). */
final class PositionwiseFeedForward {
    final Linear w_1;
    final Linear w_2;

    PositionwiseFeedForward(ParamSource p, long dim, long hidden) {
        this.w_1 = new Linear(p.sub("w_1"), dim, hidden, true);
        this.w_2 = new Linear(p.sub("w_2"), hidden, dim, true);
    }

    Tensor forward(Tensor x) {
        return Scopes.run(() -> w_2.forward(torch.silu(w_1.forward(x))));
    }

    static void shapes(Map<String, long[]> m, String prefix, long dim, long hidden) {
        Linear.shapes(m, prefix + ".w_1", dim, hidden, true);
        Linear.shapes(m, prefix + ".w_2", hidden, dim, true);
    }
}
