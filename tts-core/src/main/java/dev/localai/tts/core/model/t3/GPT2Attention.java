package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;

/**
 * GPT-2 causal self-attention: fused {@code c_attn} (q|k|v), heads of 64, scale 1/sqrt(headDim), {@code c_proj}.
 * Keys and values go into the preallocated {@link KvCache}.
 */
final class GPT2Attention implements AutoCloseable {
    final Conv1D c_attn;
    final Conv1D c_proj;
    private final int nEmbd;
    private final int nHead;
    private final int headDim;

    GPT2Attention(ParamSource p, T3Config c) {
        this.nEmbd = c.nEmbd();
        this.nHead = c.nHead();
        this.headDim = c.headDim();
        this.c_attn = new Conv1D(p.sub("c_attn"), nEmbd, 3 * nEmbd);
        this.c_proj = new Conv1D(p.sub("c_proj"), nEmbd, nEmbd);
    }

    /**
     * Prefill from position 0: h (L, D) normalised input; writes K/V rows 0..L-1 of {@code layer} and returns the
     * projected attention output (L, D).
     */
    Tensor prefill(Tensor h, KvCache cache, int layer) {
        return prefill(h, cache, layer, 0);
    }

    /**
     * Prefill of positions {@code from..from+L-1} after a cache whose rows 0..from-1 are already filled (a voice's
     * prefix): writes K/V rows from..from+L-1 and attends each query over every earlier key and itself. From 0 this
     * is exactly {@link #prefill(Tensor, KvCache, int)}.
     */
    Tensor prefill(Tensor h, KvCache cache, int layer, int from) {
        if (from > 0) {
            return prefillAfter(h, cache, layer, from);
        }
        long len = h.size(0);
        Tensor qkv = c_attn.forward(h);
        Tensor q = qkv.narrow(1, 0, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor k = qkv.narrow(1, nEmbd, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor v = qkv.narrow(1, 2L * nEmbd, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor kc = cache.k(layer).narrow(1, 0, len);
        Tensor vc = cache.v(layer).narrow(1, 0, len);
        kc.copy_(k);
        vc.copy_(v);
        Tensor a = torch.scaled_dot_product_attention(q, kc, vc, new TensorOptional(), 0.0, true,
                new DoubleOptional(), false);
        Tensor merged = a.transpose(0, 1).reshape(len, nEmbd);
        return c_proj.forward(merged);
    }

    private Tensor prefillAfter(Tensor h, KvCache cache, int layer, int from) {
        long len = h.size(0);
        Tensor qkv = c_attn.forward(h);
        Tensor q = qkv.narrow(1, 0, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor k = qkv.narrow(1, nEmbd, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor v = qkv.narrow(1, 2L * nEmbd, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        cache.k(layer).narrow(1, from, len).copy_(k);
        cache.v(layer).narrow(1, from, len).copy_(v);
        Tensor kc = cache.k(layer).narrow(1, 0, from + len);
        Tensor vc = cache.v(layer).narrow(1, 0, from + len);
        // query i sits at position from + i: it sees keys 0..from+i (is_causal would align the mask top-left)
        Tensor mask = torch.ones(len, from + len).to(torch.ScalarType.Bool).tril(from);
        Tensor a = torch.scaled_dot_product_attention(q, kc, vc, new TensorOptional(mask), 0.0, false,
                new DoubleOptional(), false);
        Tensor merged = a.transpose(0, 1).reshape(len, nEmbd);
        return c_proj.forward(merged);
    }

    /**
     * One decode step at position {@code pos}: reads the normalised input {@code h} (D), writes K/V row {@code pos}
     * and leaves the projected output in {@code buf.proj}.
     */
    void step(Tensor h, int pos, KvCache cache, int layer, DecodeBuffers buf) {
        c_attn.forwardVec(h, buf.qkv);
        Tensor q = buf.qkv.narrow(0, 0, nEmbd).view(nHead, 1, headDim);
        cache.k(layer).select(1, pos).copy_(buf.qkv.narrow(0, nEmbd, nEmbd).view(nHead, headDim));
        cache.v(layer).select(1, pos).copy_(buf.qkv.narrow(0, 2L * nEmbd, nEmbd).view(nHead, headDim));
        Tensor kc = cache.k(layer).narrow(1, 0, pos + 1);
        Tensor vc = cache.v(layer).narrow(1, 0, pos + 1);
        // one query sees every cached key: no mask (is_causal would align the mask top-left)
        Tensor a = torch.scaled_dot_product_attention(q, kc, vc, new TensorOptional(), 0.0, false,
                new DoubleOptional(), false);
        c_proj.forwardVec(a.view(nEmbd), buf.proj);
    }

    /**
     * One decode step for n rows of different sessions: row i reads h[i] (D), writes K/V row {@code pos[i]} of
     * {@code caches[i]} and attends over that cache's own {@code pos[i] + 1} positions (per-row lengths, no
     * padding); the projected outputs land in the first n rows of {@code bb.proj}.
     */
    void stepRows(Tensor h, int n, int[] pos, KvCache[] caches, int layer, BatchBuffers bb) {
        Tensor qkv = BatchBuffers.rows(bb.qkv, n);
        c_attn.forwardRows(h, qkv, bb.scratch, bb.gemm);
        for (int i = 0; i < n; i++) {
            Tensor row = qkv.select(0, i);
            int p = pos[i];
            KvCache cache = caches[i];
            Tensor q = row.narrow(0, 0, nEmbd).view(nHead, 1, headDim);
            cache.k(layer).select(1, p).copy_(row.narrow(0, nEmbd, nEmbd).view(nHead, headDim));
            cache.v(layer).select(1, p).copy_(row.narrow(0, 2L * nEmbd, nEmbd).view(nHead, headDim));
            Tensor kc = cache.k(layer).narrow(1, 0, p + 1);
            Tensor vc = cache.v(layer).narrow(1, 0, p + 1);
            Tensor a = torch.scaled_dot_product_attention(q, kc, vc, new TensorOptional(), 0.0, false,
                    new DoubleOptional(), false);
            bb.attn.select(0, i).copy_(a.view(nEmbd));
        }
        c_proj.forwardRows(BatchBuffers.rows(bb.attn, n), BatchBuffers.rows(bb.proj, n), bb.scratch, bb.gemm);
    }

    @Override
    public void close() {
        c_attn.close();
        c_proj.close();
    }
}
