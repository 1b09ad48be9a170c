package dev.localai.tts.core.voice.s3tokenizer;

import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * Pre-norm transformer block of the S3 tokenizer encoder ({@code encoder.blocks.N}):
 * {@code x += attn(attn_ln(x))} (LayerNorm eps 1e-6), {@code x += mlp(mlp_ln(x))} (eps 1e-5, 4x width, exact GELU).
 */
final class ResidualAttentionBlock {
    final FsmnMultiHeadAttention attn;
    final Tensor attnLnWeight;
    final Tensor attnLnBias;
    final Linear mlp0;
    final Linear mlp2;
    final Tensor mlpLnWeight;
    final Tensor mlpLnBias;
    private final long state;

    ResidualAttentionBlock(ParamSource params, S3TokenizerConfig c) {
        this.state = c.nAudioState();
        long mlp = state * 4;
        this.attn = new FsmnMultiHeadAttention(params.sub("attn"), c);
        this.attnLnWeight = params.take("attn_ln.weight", state);
        this.attnLnBias = params.take("attn_ln.bias", state);
        this.mlp0 = new Linear(params.sub("mlp.0"), state, mlp, true);
        this.mlp2 = new Linear(params.sub("mlp.2"), mlp, state, true);
        this.mlpLnWeight = params.take("mlp_ln.weight", state);
        this.mlpLnBias = params.take("mlp_ln.bias", state);
    }

    static void shapes(Map<String, long[]> m, String p, S3TokenizerConfig c) {
        long s = c.nAudioState();
        FsmnMultiHeadAttention.shapes(m, p + ".attn", c);
        m.put(p + ".attn_ln.weight", new long[] {s});
        m.put(p + ".attn_ln.bias", new long[] {s});
        Linear.shapes(m, p + ".mlp.0", s, s * 4, true);
        Linear.shapes(m, p + ".mlp.2", s * 4, s, true);
        m.put(p + ".mlp_ln.weight", new long[] {s});
        m.put(p + ".mlp_ln.bias", new long[] {s});
    }

    Tensor forward(Tensor x, Tensor cos, Tensor sin) {
        Tensor h = torch.layer_norm(x, new long[] {state}, new TensorOptional(attnLnWeight),
                new TensorOptional(attnLnBias), 1e-6, false);
        x = x.add(attn.forward(h, cos, sin));
        Tensor m = torch.layer_norm(x, new long[] {state}, new TensorOptional(mlpLnWeight),
                new TensorOptional(mlpLnBias), 1e-5, false);
        return x.add(mlp2.forward(torch.gelu(mlp0.forward(m))));
    }
}
