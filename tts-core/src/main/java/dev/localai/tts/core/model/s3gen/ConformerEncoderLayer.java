package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * Pre-norm conformer layer as S3Gen configures it (no macaron FFN, no conv module):
 * x += self_attn(norm_mha(x)); x += feed_forward(norm_ff(x)). Both norms use eps 1e-12.
 */
final class ConformerEncoderLayer {
    final RelPositionMultiHeadedAttention self_attn;
    final PositionwiseFeedForward feed_forward;
    final LayerNorm norm_ff;
    final LayerNorm norm_mha;

    ConformerEncoderLayer(ParamSource p, S3GenConfig c) {
        this.self_attn = new RelPositionMultiHeadedAttention(p.sub("self_attn"), c.dModel(), c.attentionHeads());
        this.feed_forward = new PositionwiseFeedForward(p.sub("feed_forward"), c.dModel(), c.linearUnits());
        this.norm_ff = new LayerNorm(p.sub("norm_ff"), c.dModel(), 1e-12);
        this.norm_mha = new LayerNorm(p.sub("norm_mha"), c.dModel(), 1e-12);
    }

    Tensor forward(Tensor x, Tensor posEmb) {
        return Scopes.run(() -> {
            Tensor h = x.add(self_attn.forward(norm_mha.forward(x), posEmb));
            return h.add(feed_forward.forward(norm_ff.forward(h)));
        });
    }

    static void shapes(Map<String, long[]> m, String prefix, S3GenConfig c) {
        PositionwiseFeedForward.shapes(m, prefix + ".feed_forward", c.dModel(), c.linearUnits());
        LayerNorm.shapes(m, prefix + ".norm_ff", c.dModel());
        LayerNorm.shapes(m, prefix + ".norm_mha", c.dModel());
        RelPositionMultiHeadedAttention.shapes(m, prefix + ".self_attn", c.dModel(), c.attentionHeads());
    }
}
