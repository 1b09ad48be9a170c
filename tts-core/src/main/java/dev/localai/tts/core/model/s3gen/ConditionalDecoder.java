package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RowConv1d;
import dev.localai.tts.core.nn.Scopes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * The mean-flow estimator: a one-level causal 1-D U-Net with transformer blocks (CosyVoice/Chatterbox
 * {@code ConditionalDecoder(causal=True, meanflow=True)}). Input channels are [x | mu | spks | cond] (4 x 80);
 * the time conditioning embeds t and r through the shared {@code time_mlp} and mixes them with the bias-free
 * {@code time_embed_mixer}. Attention is bidirectional over the whole sequence (static chunk 0). Between its input
 * and its output the sequence stays as rows (B, T, C): the transformer blocks' products read and write rows, and the
 * convolutions run over rows too ({@link RowConv1d}), so nothing is transposed inside.
 */
final class ConditionalDecoder {

    /** One U-Net level: {@code .0} resnet, {@code .1.i} transformer blocks, {@code .2} causal k=3 conv. */
    static final class Level {
        final CausalResnetBlock1D resnet;
        final List<BasicTransformerBlock> transformer_blocks = new ArrayList<>();
        /** null for mid blocks */
        final RowConv1d sample;

        Level(ParamSource p, S3GenConfig c, long in, boolean withConv) {
            long out = c.channels();
            this.resnet = new CausalResnetBlock1D(p.sub("0"), in, out, c.timeEmbedDim());
            for (int i = 0; i < c.nBlocks(); i++) {
                transformer_blocks.add(new BasicTransformerBlock(p.sub("1." + i), out, c.numHeads(), c.attentionHeadDim(),
                        c.attentionInFp32()));
            }
            this.sample = withConv ? RowConv1d.causal(p.sub("2"), out, out, 3) : null;
        }

        /** resnet + transformer blocks, rows (B, T, C_in) -> (B, T, C); the conv is applied by the caller. */
        Tensor forward(Tensor x, Tensor timeEmb) {
            return Scopes.run(() -> {
                Tensor h = resnet.forward(x, timeEmb);
                for (BasicTransformerBlock tb : transformer_blocks) {
                    h = tb.forward(h);
                }
                return h;
            });
        }

        static void shapes(Map<String, long[]> m, String prefix, S3GenConfig c, long in, boolean withConv) {
            long out = c.channels();
            CausalResnetBlock1D.shapes(m, prefix + ".0", in, out, c.timeEmbedDim());
            for (int i = 0; i < c.nBlocks(); i++) {
                BasicTransformerBlock.shapes(m, prefix + ".1." + i, out, c.numHeads(), c.attentionHeadDim());
            }
            if (withConv) {
                RowConv1d.shapes(m, prefix + ".2", out, out, 3);
            }
        }
    }

    final TimestepEmbedding time_mlp;
    /** null unless meanflow */
    final Linear time_embed_mixer;
    /** key {@code down_blocks.0} */
    final Level down_blocks0;
    final List<Level> mid_blocks = new ArrayList<>();
    /** key {@code up_blocks.0} */
    final Level up_blocks0;
    final CausalBlock1D final_block;
    final RowConv1d final_proj;
    private final S3GenConfig config;

    ConditionalDecoder(ParamSource p, S3GenConfig c) {
        this.config = c;
        long e = c.timeEmbedDim();
        this.time_mlp = new TimestepEmbedding(p.sub("time_mlp"), c.estimatorInChannels(), e);
        this.time_embed_mixer = c.meanflow() ? new Linear(p.sub("time_embed_mixer"), 2 * e, e, false) : null;
        this.down_blocks0 = new Level(p.sub("down_blocks.0"), c, c.estimatorInChannels(), true);
        for (int i = 0; i < c.numMidBlocks(); i++) {
            mid_blocks.add(new Level(p.sub("mid_blocks." + i), c, c.channels(), false));
        }
        this.up_blocks0 = new Level(p.sub("up_blocks.0"), c, 2L * c.channels(), true);
        this.final_block = new CausalBlock1D(p.sub("final_block"), c.channels(), c.channels());
        this.final_proj = RowConv1d.padded(p.sub("final_proj"), c.channels(), c.melBins(), 1, 0, 0);
    }

    /**
     * The time conditioning (1, E) for the step t -> r (both (1,) float32 tensors); without meanflow r is ignored.
     * Cast to {@code dtype}.
     */
    Tensor timeEmbedding(Tensor t, Tensor r, torch.ScalarType dtype) {
        return Scopes.run(() -> {
            long dim = time_mlp.sinusoidDim();
            Tensor te = time_mlp.forward(TimestepEmbedding.sinusoid(t, dim).to(dtype));
            if (time_embed_mixer == null) {
                return te;
            }
            Tensor re = time_mlp.forward(TimestepEmbedding.sinusoid(r, dim).to(dtype));
            return time_embed_mixer.forward(torch.cat(new TensorArrayRef(new TensorVector(te, re)), 1));
        });
    }

    /**
     * The velocity estimate. x, mu, cond: (1, 80, T); spks: (1, 80); timeEmb: (1, E). Returns (1, 80, T).
     */
    Tensor forward(Tensor x, Tensor mu, Tensor spks, Tensor cond, Tensor timeEmb) {
        return Scopes.run(() -> {
            long t = x.size(2);
            Tensor s = spks.unsqueeze(-1).expand(spks.size(0), spks.size(1), t);
            // (1, 4 x 80, T) as rows (1, T, 320): the one transpose on the way in
            Tensor h = torch.cat(new TensorArrayRef(new TensorVector(x, mu, s, cond)), 1).transpose(1, 2)
                    .contiguous();
            h = down_blocks0.forward(h, timeEmb);
            Tensor skip = h;
            h = down_blocks0.sample.forward(h);
            for (Level mid : mid_blocks) {
                h = mid.forward(h, timeEmb);
            }
            h = torch.cat(new TensorArrayRef(new TensorVector(h.narrow(1, 0, skip.size(1)), skip)), 2);
            h = up_blocks0.forward(h, timeEmb);
            h = up_blocks0.sample.forward(h);
            h = final_block.forward(h);
            return final_proj.forward(h).transpose(1, 2).contiguous(); // and the one on the way out
        });
    }

    S3GenConfig config() {
        return config;
    }

    static void shapes(Map<String, long[]> m, String prefix, S3GenConfig c) {
        long e = c.timeEmbedDim();
        TimestepEmbedding.shapes(m, prefix + ".time_mlp", c.estimatorInChannels(), e);
        if (c.meanflow()) {
            m.put(prefix + ".time_embed_mixer.weight", new long[] {e, 2 * e});
        }
        Level.shapes(m, prefix + ".down_blocks.0", c, c.estimatorInChannels(), true);
        for (int i = 0; i < c.numMidBlocks(); i++) {
            Level.shapes(m, prefix + ".mid_blocks." + i, c, c.channels(), false);
        }
        Level.shapes(m, prefix + ".up_blocks.0", c, 2L * c.channels(), true);
        CausalBlock1D.shapes(m, prefix + ".final_block", c.channels(), c.channels());
        RowConv1d.shapes(m, prefix + ".final_proj", c.channels(), c.melBins(), 1);
    }
}
