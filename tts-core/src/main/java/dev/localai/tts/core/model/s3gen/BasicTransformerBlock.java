package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Diffusers-style transformer block as the estimator uses it (self-attention only, no AdaLN):
 * h += attn1(norm1(h)); h += ff(norm3(h)). attn1: to_q/to_k/to_v without bias, scaled dot-product attention over the
 * whole sequence (the additive mask is all zeros for one utterance), {@code to_out.0} with bias. ff: {@code net.0.proj}
 * + exact GELU, {@code net.2}. A bf16 flow attends with {@link Bf16Attention} where it runs (AVX512-BF16 or AMX;
 * heads of 64, rows as the products write them), an fp32 flow with {@link Fp32Attention} where it runs (AVX-512, AVX2,
 * AVX or SSE4.1), elsewhere with LibTorch's {@code scaled_dot_product_attention}.
 */
final class BasicTransformerBlock {
    final LayerNorm norm1;
    /**
     * keys {@code attn1.to_q}, {@code attn1.to_k}, {@code attn1.to_v} (no biases), stacked at load into one
     * (3 inner, dim) product: each frame's q, k and v come out side by side, and the attention kernels read them in
     * place. One product instead of three over the same input (the three weights are not kept apart).
     */
    final Linear to_qkv;
    /** key {@code attn1.to_out.0} */
    final Linear to_out0;
    final LayerNorm norm3;
    /** key {@code ff.net.0.proj} */
    final Linear ff_net0_proj;
    /** key {@code ff.net.2} */
    final Linear ff_net2;
    private final long heads;
    private final long headDim;
    private final boolean attentionInFp32;

    BasicTransformerBlock(ParamSource p, long dim, long heads, long headDim, boolean attentionInFp32) {
        this.attentionInFp32 = attentionInFp32;
        long inner = heads * headDim;
        this.heads = heads;
        this.headDim = headDim;
        this.norm1 = new LayerNorm(p.sub("norm1"), dim, 1e-5);
        ParamSource a = p.sub("attn1");
        Tensor wq = a.sub("to_q").take("weight", inner, dim);
        Tensor wk = a.sub("to_k").take("weight", inner, dim);
        Tensor wv = a.sub("to_v").take("weight", inner, dim);
        Tensor stacked = a.keep(torch.cat(new TensorArrayRef(new TensorVector(wq, wk, wv)), 0));
        a.free(wq);
        a.free(wk);
        a.free(wv);
        this.to_qkv = Linear.over(a, stacked, null);
        this.to_out0 = new Linear(a.sub("to_out.0"), inner, dim, true);
        this.norm3 = new LayerNorm(p.sub("norm3"), dim, 1e-5);
        this.ff_net0_proj = new Linear(p.sub("ff.net.0.proj"), dim, dim * 4, true);
        this.ff_net2 = new Linear(p.sub("ff.net.2"), dim * 4, dim, true);
    }

    /** h: (B, T, C) -> (B, T, C). */
    Tensor forward(Tensor h) {
        return Scopes.run(() -> {
            long b = h.size(0);
            long t = h.size(1);
            Tensor qkv = to_qkv.forward(norm1.forward(h)); // (B, T, 3 inner): q | k | v
            long inner = heads * headDim;
            Tensor o;
            if (!attentionInFp32 && Bf16Attention.takesPacked(qkv, heads)) {
                // the rows as the product wrote them, no transposes (bf16 on a CPU with AVX512-BF16 or AMX)
                o = Bf16Attention.attendPacked(qkv, heads, 1.0 / Math.sqrt(headDim));
            } else if (Fp32Attention.takesPacked(qkv, heads)) {
                o = Fp32Attention.attendPacked(qkv, heads, 1.0 / Math.sqrt(headDim)); // an fp32 flow
            } else {
                Tensor q = qkv.narrow(2, 0, inner);
                Tensor k = qkv.narrow(2, inner, inner);
                Tensor v = qkv.narrow(2, 2 * inner, inner);
                o = attention(q.view(b, t, heads, headDim).transpose(1, 2), k.view(b, t, heads, headDim).transpose(1, 2),
                        v.view(b, t, heads, headDim).transpose(1, 2)).transpose(1, 2).reshape(b, t, heads * headDim);
            }
            Tensor x = h.add(to_out0.forward(o));
            Tensor f = ff_net2.forward(torch.gelu(ff_net0_proj.forward(norm3.forward(x))));
            return x.add(f);
        });
    }

    /**
     * Bidirectional attention over all frames, in the weights' type, or (for a bf16 flow on the CPU whose config says
     * so) in fp32: LibTorch's bf16 {@code scaled_dot_product_attention} is 15x slower than fp32 on a Zen 4 EPYC while
     * the products around it are faster in bf16; on an AMX Xeon bf16 attention is the faster one. The weight-type
     * probe measures both and {@code S3GenConfig.attentionInFp32} carries its choice.
     */
    private Tensor attention(Tensor q, Tensor k, Tensor v) {
        ScalarType t = q.scalar_type();
        if (!attentionInFp32 || q.is_cuda() || t.value == ScalarType.Float.value) {
            return torch.scaled_dot_product_attention(q, k, v, new TensorOptional(), 0.0, false,
                    new DoubleOptional(), false);
        }
        return torch.scaled_dot_product_attention(q.to(ScalarType.Float), k.to(ScalarType.Float),
                v.to(ScalarType.Float), new TensorOptional(), 0.0, false, new DoubleOptional(), false).to(t);
    }

    static void shapes(Map<String, long[]> m, String prefix, long dim, long heads, long headDim) {
        long inner = heads * headDim;
        Linear.shapes(m, prefix + ".attn1.to_k", dim, inner, false);
        Linear.shapes(m, prefix + ".attn1.to_out.0", inner, dim, true);
        Linear.shapes(m, prefix + ".attn1.to_q", dim, inner, false);
        Linear.shapes(m, prefix + ".attn1.to_v", dim, inner, false);
        Linear.shapes(m, prefix + ".ff.net.0.proj", dim, dim * 4, true);
        Linear.shapes(m, prefix + ".ff.net.2", dim * 4, dim, true);
        LayerNorm.shapes(m, prefix + ".norm1", dim);
        LayerNorm.shapes(m, prefix + ".norm3", dim);
    }
}
