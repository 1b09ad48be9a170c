package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * S3Gen's token encoder (CosyVoice 2 {@code UpsampleConformerEncoder}): embed -> pre-lookahead conv -> conformer
 * layers -> x2 upsampler -> up_embed -> up conformer layers -> after_norm. Attention is full (static chunk 0) and a
 * single utterance has no padding, so no masks are needed. (B, T, inputSize) -> (B, 2T, dModel).
 */
final class UpsampleConformerEncoder {
    final LinearNoSubsampling embed;
    final PreLookaheadLayer pre_lookahead_layer;
    final List<ConformerEncoderLayer> encoders = new ArrayList<>();
    final Upsample1D up_layer;
    final LinearNoSubsampling up_embed;
    final List<ConformerEncoderLayer> up_encoders = new ArrayList<>();
    final LayerNorm after_norm;

    UpsampleConformerEncoder(ParamSource p, S3GenConfig c) {
        this.embed = new LinearNoSubsampling(p.sub("embed"), c.inputSize(), c.dModel());
        this.pre_lookahead_layer = new PreLookaheadLayer(p.sub("pre_lookahead_layer"), c.dModel(), c.preLookaheadLen());
        for (int i = 0; i < c.numBlocks(); i++) {
            encoders.add(new ConformerEncoderLayer(p.sub("encoders." + i), c));
        }
        this.up_layer = new Upsample1D(p.sub("up_layer"), c.dModel(), c.dModel(), c.upsampleStride());
        // upstream builds up_embed with input_size -> output_size; both equal dModel in every profile
        this.up_embed = new LinearNoSubsampling(p.sub("up_embed"), c.inputSize(), c.dModel());
        for (int i = 0; i < c.numUpBlocks(); i++) {
            up_encoders.add(new ConformerEncoderLayer(p.sub("up_encoders." + i), c));
        }
        this.after_norm = new LayerNorm(p.sub("after_norm"), c.dModel(), 1e-5);
    }

    /** xs: (1, T, inputSize) token embeddings -> (1, stride*T, dModel). */
    Tensor forward(Tensor xs) {
        return Scopes.run(() -> {
            Tensor x = embed.forward(xs);
            Tensor pos = embed.posEmb(x.size(1), x);
            x = pre_lookahead_layer.forward(x);
            for (ConformerEncoderLayer layer : encoders) {
                x = layer.forward(x, pos);
            }
            x = up_layer.forward(x.transpose(1, 2).contiguous()).transpose(1, 2).contiguous();
            x = up_embed.forward(x);
            Tensor pos2 = up_embed.posEmb(x.size(1), x);
            for (ConformerEncoderLayer layer : up_encoders) {
                x = layer.forward(x, pos2);
            }
            return after_norm.forward(x);
        });
    }

    static void shapes(Map<String, long[]> m, String prefix, S3GenConfig c) {
        LinearNoSubsampling.shapes(m, prefix + ".embed", c.inputSize(), c.dModel());
        PreLookaheadLayer.shapes(m, prefix + ".pre_lookahead_layer", c.dModel(), c.preLookaheadLen());
        for (int i = 0; i < c.numBlocks(); i++) {
            ConformerEncoderLayer.shapes(m, prefix + ".encoders." + i, c);
        }
        Upsample1D.shapes(m, prefix + ".up_layer", c.dModel(), c.dModel(), c.upsampleStride());
        LinearNoSubsampling.shapes(m, prefix + ".up_embed", c.inputSize(), c.dModel());
        for (int i = 0; i < c.numUpBlocks(); i++) {
            ConformerEncoderLayer.shapes(m, prefix + ".up_encoders." + i, c);
        }
        LayerNorm.shapes(m, prefix + ".after_norm", c.dModel());
    }
}
