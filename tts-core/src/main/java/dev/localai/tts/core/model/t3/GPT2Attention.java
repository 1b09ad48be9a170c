package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.CpuAttention;
import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import org.bytedeco.pytorch.DoubleOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * GPT-2 causal self-attention: fused {@code c_attn} (q|k|v), heads of 64, scale 1/sqrt(headDim), {@code c_proj}.
 * Keys and values go into the preallocated {@link KvCache}.
 */
final class GPT2Attention {
    final Conv1D c_attn;
    final Conv1D c_proj;
    private final int nEmbd;
    private final int nHead;
    private final int headDim;
    /** 1 / sqrt(headDim): GPT-2's attention scale (one per head size, kept for the process like the constants). */
    private final Scalar scale;
    private final double scaleValue;
    private static final Scalar ZERO = new Scalar(0.0).retainReference();
    private static final java.util.Map<Integer, Scalar> SCALES = new java.util.concurrent.ConcurrentHashMap<>();

    GPT2Attention(ParamSource p, T3Config c, boolean int8) {
        this.nEmbd = c.nEmbd();
        this.nHead = c.nHead();
        this.headDim = c.headDim();
        this.scale = SCALES.computeIfAbsent(headDim, d -> new Scalar(1.0 / Math.sqrt(d)).retainReference());
        this.scaleValue = 1.0 / Math.sqrt(headDim);
        this.c_attn = new Conv1D(p.sub("c_attn"), nEmbd, 3 * nEmbd, int8);
        this.c_proj = new Conv1D(p.sub("c_proj"), nEmbd, nEmbd, int8);
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
        cache.write(layer, 0, k, v);
        if (nativeFor(cache, h)) {
            return c_proj.forward(nativePrefill(qkv, len, cache, layer, 0));
        }
        // attention reads what the cache holds (an fp16 or int8 cache: its rounded keys and values, as decode steps
        // will)
        Tensor a = torch.scaled_dot_product_attention(q, like(cache.keys(layer, len), q),
                like(cache.values(layer, len), q), new TensorOptional(), 0.0, true, new DoubleOptional(), false);
        Tensor merged = a.transpose(0, 1).reshape(len, nEmbd);
        return c_proj.forward(merged);
    }

    /**
     * Whether a prefill's attention reads the cache through the native kernel: where the decode attention does (the
     * probe's choice) and the cache is one it reads. LibTorch's attention ran at about 17 GFLOP/s with the mask of a
     * prefill after a prefix, and its causal form over 407 positions took 470-610 ms for 24 layers (with the fp16
     * cache's conversion) against 226-235 native (docs/performance.md, "Sixth round of 2026-12-03").
     */
    private static boolean nativeFor(KvCache cache, Tensor h) {
        return CpuAttention.usedForDecode() && cache.nativeReadable() && !h.is_cuda()
                && h.scalar_type().value == torch.ScalarType.Float.value;
    }

    /** Rows from..from+len-1 (already in the cache) attend causally, each straight from the cache: (len, D). */
    private Tensor nativePrefill(Tensor qkv, long len, KvCache cache, int layer, int from) {
        Tensor merged = torch.empty(len, nEmbd);
        CpuAttention.prefill(qkv.narrow(1, 0, nEmbd), from, cache.kAddress(layer), cache.vAddress(layer), nHead,
                headDim, cache.capacity(), cache.type(), scaleValue, merged);
        return merged;
    }

    private Tensor prefillAfter(Tensor h, KvCache cache, int layer, int from) {
        long len = h.size(0);
        Tensor qkv = c_attn.forward(h);
        Tensor q = qkv.narrow(1, 0, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor k = qkv.narrow(1, nEmbd, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        Tensor v = qkv.narrow(1, 2L * nEmbd, nEmbd).view(len, nHead, headDim).transpose(0, 1);
        cache.write(layer, from, k, v);
        if (nativeFor(cache, h)) {
            return c_proj.forward(nativePrefill(qkv, len, cache, layer, from));
        }
        Tensor kc = like(cache.keys(layer, from + len), q);
        Tensor vc = like(cache.values(layer, from + len), q);
        // query i sits at position from + i: it sees keys 0..from+i (is_causal would align the mask top-left)
        Tensor mask = OnDevice.of(torch.ones(len, from + len).to(torch.ScalarType.Bool).tril(from), q);
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
        cache.write(layer, pos, buf.qkv.narrow(0, nEmbd, nEmbd).view(nHead, 1, headDim),
                buf.qkv.narrow(0, 2L * nEmbd, nEmbd).view(nHead, 1, headDim));
        Tensor a = attendOne(q, cache.keys(layer, pos + 1), cache.values(layer, pos + 1), pos + 1, buf.att,
                SplitGemm.shared());
        c_proj.forwardVec(a.reshape(nEmbd), buf.proj);
    }

    /**
     * softmax(q k^T / sqrt(headDim)) v for one query per head (heads, 1, headDim) over {@code len} cached keys, in
     * fp32 on the CPU, into the session's buffers: the same sums as {@code scaled_dot_product_attention}, which for a
     * single query runs its blocked flash kernel at 2-3x the cost of three plain batched products (T3 decode at Turbo
     * sizes: 13-18 ms of SDPA per step against 6 ms, docs/performance.md).
     */
    private Tensor oneQueryAttention(Tensor q, Tensor kc, Tensor vc, int len, AttentionScratch s, SplitGemm gemm) {
        Tensor scores = s.scores.narrow(2, 0, len);
        Tensor probs = s.probs.narrow(2, 0, len);
        Tensor kt = kc.transpose(1, 2);
        // heads are independent: split over the cores, each part writing its own heads (bitwise the unsplit result)
        gemm.forEachPart(nHead, 2L * len * headDim, (from, n) -> {
            Tensor sc = scores.narrow(0, from, n);
            Tensor pr = probs.narrow(0, from, n);
            // beta 0: the scores buffer's old contents are ignored, not read
            torch.baddbmm_out(sc, sc, q.narrow(0, from, n), kt.narrow(0, from, n), ZERO, scale);
            torch.softmax_out(pr, sc, -1);
            torch.bmm_out(s.out.narrow(0, from, n), pr, vc.narrow(0, from, n));
        });
        return s.out;
    }

    /**
     * The single-query attention of one decode step: in fp32 on the CPU this project's kernel where the engine chose it
     * ({@link CpuAttention}), else the plain products; SDPA otherwise.
     */
    private Tensor attendOne(Tensor q, Tensor cachedK, Tensor cachedV, int len, AttentionScratch s, SplitGemm gemm) {
        Tensor kc = like(cachedK, q);
        Tensor vc = like(cachedV, q);
        if (kc.is_cuda() || kc.scalar_type().value != ScalarType.Float.value) {
            // one query sees every cached key: no mask (is_causal would align the mask top-left)
            return torch.scaled_dot_product_attention(q, kc, vc, new TensorOptional(), 0.0, false,
                    new DoubleOptional(), false);
        }
        if (CpuAttention.usedForDecode()) {
            CpuAttention.oneQuery(q, kc, vc, len, scaleValue, s.out);
            return s.out;
        }
        return oneQueryAttention(q, kc, vc, len, s, gemm);
    }

    /** {@code c}, or a copy of it in {@code q}'s dtype where the cache holds another (an fp16 cache of int8 T3). */
    private static Tensor like(Tensor c, Tensor q) {
        return c.scalar_type().value == q.scalar_type().value ? c : c.to(q.scalar_type());
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
            cache.write(layer, p, row.narrow(0, nEmbd, nEmbd).view(nHead, 1, headDim),
                    row.narrow(0, 2L * nEmbd, nEmbd).view(nHead, 1, headDim));
            Tensor a = attendOne(q, cache.keys(layer, p + 1), cache.values(layer, p + 1), p + 1, bb.att, bb.gemm);
            bb.attn.select(0, i).copy_(a.reshape(nEmbd));
        }
        c_proj.forwardRows(BatchBuffers.rows(bb.attn, n), BatchBuffers.rows(bb.proj, n), bb.scratch, bb.gemm);
    }

    /**
     * {@link #stepRows} for rows whose caches are slots of {@code pool}: the new keys and values of all rows go into
     * the pool with one indexed copy each, and all rows attend at once over the first {@code rows.maxLen} positions
     * of their slots, each masked to its own length.
     */
    void stepRowsPooled(Tensor h, int n, KvPool pool, KvPool.Rows rows, int layer, BatchBuffers bb) {
        Tensor qkv = BatchBuffers.rows(bb.qkv, n);
        c_attn.forwardRows(h, qkv, bb.scratch, bb.gemm);
        Tensor pk = pool.k(layer);
        Tensor pv = pool.v(layer);
        long flatRows = pk.size(0) * pk.size(1);
        pk.view(flatRows, nEmbd).index_copy_(0, rows.flat, qkv.narrow(1, nEmbd, nEmbd).to(pk.scalar_type()));
        pv.view(flatRows, nEmbd).index_copy_(0, rows.flat, qkv.narrow(1, 2L * nEmbd, nEmbd).to(pv.scalar_type()));
        Tensor q = qkv.narrow(1, 0, nEmbd).view(n, nHead, 1, headDim).mul(scale);
        // (n, maxLen, heads, headDim) gathered from the slots, seen as (n, heads, maxLen, headDim)
        Tensor kc = like(pk.narrow(1, 0, rows.maxLen).index_select(0, rows.slots).transpose(1, 2), q);
        Tensor vc = like(pv.narrow(1, 0, rows.maxLen).index_select(0, rows.slots).transpose(1, 2), q);
        // softmax(q k^T + bias) v spelled out: LibTorch's fused attention with this mask stalled the step on an H200
        // (every stack sample of a 4-row step was inside it; docs/performance.md "GPU")
        Tensor scores = torch.matmul(q, kc.transpose(2, 3)).to(ScalarType.Float).add_(rows.bias); // (n, H, 1, L)
        Tensor probs = torch.softmax(scores, -1).to(q.scalar_type());
        Tensor a = torch.matmul(probs, vc); // (n, H, 1, headDim)
        c_proj.forwardRows(a.reshape(n, nEmbd), BatchBuffers.rows(bb.proj, n), bb.scratch, bb.gemm);
    }
}
