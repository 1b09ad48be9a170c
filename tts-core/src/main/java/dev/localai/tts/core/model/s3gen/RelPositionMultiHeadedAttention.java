package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Bf16Attention;
import dev.localai.tts.core.nn.Fp32Attention;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * Multi-head self-attention with Transformer-XL relative positions (ESPnet/WeNet {@code RelPositionMultiHeadedAttention}):
 * scores = ((q + u) k^T + rel_shift((q + v) p^T)) / sqrt(d_k), p = linear_pos(pos_emb). Full (bidirectional) attention;
 * the key-padding mask is all ones for a single utterance, so it is not applied.
 *
 * <p>The scores are (H, T, T) and the position terms (H, T, 2T - 1): their memory grows with the square of the
 * sequence. Over a long one (the voice prompt and a chunk that ran to its 4096-token cap: 8692 mel frames in the
 * upsampled layers) they took 4.8 GB, and {@code tts speak} peaked at 7.3 GB (5.0 GB with the blocks, in the same
 * time). Where one call's score tensors would pass
 * {@link #BLOCK_BYTES}, they are computed a block of query rows at a time (each row's softmax needs only its own
 * row, and its position terms only the T columns its shift picks), so the memory stays near that bound; shorter
 * sequences, everything the goldens and a chunk of ordinary length run, take the whole product as before.
 */
final class RelPositionMultiHeadedAttention {
    final Linear linear_q;
    final Linear linear_k;
    final Linear linear_v;
    final Linear linear_out;
    final Linear linear_pos;
    /** (H, d_k) */
    final Tensor pos_bias_u;
    /** (H, d_k) */
    final Tensor pos_bias_v;
    private final long h;
    private final long dk;

    RelPositionMultiHeadedAttention(ParamSource p, long nFeat, long nHead) {
        this.h = nHead;
        this.dk = nFeat / nHead;
        this.linear_q = new Linear(p.sub("linear_q"), nFeat, nFeat, true);
        this.linear_k = new Linear(p.sub("linear_k"), nFeat, nFeat, true);
        this.linear_v = new Linear(p.sub("linear_v"), nFeat, nFeat, true);
        this.linear_out = new Linear(p.sub("linear_out"), nFeat, nFeat, true);
        this.linear_pos = new Linear(p.sub("linear_pos"), nFeat, nFeat, false);
        this.pos_bias_u = p.take("pos_bias_u", nHead, nFeat / nHead);
        this.pos_bias_v = p.take("pos_bias_v", nHead, nFeat / nHead);
    }

    /**
     * Bytes of one call's score, position-term and probability tensors past which they are computed a block of
     * query rows at a time: 256 MiB, above a chunk of ordinary length (about 150 MB at 1500 mel frames in bf16).
     */
    static final long BLOCK_BYTES = 256L << 20;

    /** x: (1, T, D), posEmb: (1, 2T-1, D) -> (1, T, D). */
    Tensor forward(Tensor x, Tensor posEmb) {
        return forward(x, posEmb, BLOCK_BYTES);
    }

    /** {@link #forward(Tensor, Tensor)} with the bound past which query rows go in blocks (tests lower it). */
    Tensor forward(Tensor x, Tensor posEmb, long blockBytes) {
        return Scopes.run(() -> {
            long b = x.size(0);
            long t = x.size(1);
            Tensor q = linear_q.forward(x).view(b, t, h, dk); // (B, T, H, dk)
            Tensor kRows = linear_k.forward(x); // (B, T, D)
            Tensor vRows = linear_v.forward(x);
            Tensor pRows = linear_pos.forward(posEmb); // (1, 2T-1, D)
            Tensor quRows = q.add(pos_bias_u); // (B, T, H, dk), contiguous
            Tensor qvRows = q.add(pos_bias_v);
            Tensor kernel = kernelContext(quRows, qvRows, kRows, vRows, pRows);
            if (kernel != null) {
                return linear_out.forward(kernel);
            }
            Tensor k = kRows.view(b, t, h, dk).transpose(1, 2); // (B, H, T, dk)
            Tensor v = vRows.view(b, t, h, dk).transpose(1, 2);
            long np = posEmb.size(1);
            Tensor p = pRows.view(posEmb.size(0), np, h, dk).transpose(1, 2); // (1, H, 2T-1, dk)
            Tensor qu = quRows.transpose(1, 2); // (B, H, T, dk)
            Tensor qv = qvRows.transpose(1, 2);
            long perRow = b * h * 4 * t * qu.element_size(); // a row of ac, of bd (2T - 1) and of the probabilities
            if (np == 2 * t - 1 && perRow * t > blockBytes) {
                long rows = Math.max(1, blockBytes / perRow);
                return linear_out.forward(blockedContext(qu, qv, k, v, p, rows).transpose(1, 2).contiguous()
                        .view(b, t, h * dk));
            }
            Tensor ac = torch.matmul(qu, k.transpose(-2, -1)); // (B, H, T, T)
            Tensor bd = torch.matmul(qv, p.transpose(-2, -1)); // (B, H, T, 2T-1)
            if (bd.size(3) != ac.size(3)) {
                bd = relShift(bd);
            }
            Tensor scores = ac.add_(bd).div_(new Scalar(Math.sqrt(dk))); // ac is this call's own
            Tensor attn = torch.softmax(scores, -1);
            Tensor ctx = torch.matmul(attn, v).transpose(1, 2).contiguous().view(b, t, h * dk);
            return linear_out.forward(ctx);
        });
    }

    /**
     * The context (1, T, D) by this project's relative-attention kernel ({@link Bf16Attention#attendRelative}, {@link
     * Fp32Attention#attendRelative}) where it takes the tensors (one sequence, heads of 64, the CPU and dispatch caps
     * that run it), else null. Per block of sixteen query rows it computes the scores, the shifted position terms and
     * the softmax in fp32 with memory linear in T (no (H, T, 2T - 1) tensors, so no blocks are needed for long
     * sequences), reading the products' rows in place. At the flow's first streamed block (550 frames in the
     * upsampled layers) LibTorch's matmuls, add, division and softmax took about 4 ms a layer in bf16 and 19 ms in
     * fp32 under AVX2 (docs/performance.md, "Twenty-seventh round").
     */
    Tensor kernelContext(Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p) {
        if (qu.size(0) != 1 || dk != Bf16Attention.HEAD_DIM) {
            return null;
        }
        long t = qu.size(1);
        Tensor u = qu.view(1, t, h * dk);
        Tensor w = qv.view(1, t, h * dk);
        double scale = 1.0 / Math.sqrt(dk);
        if (Bf16Attention.takesRelative(u, w, k, v, p, h)) {
            return Bf16Attention.attendRelative(u, w, k, v, p, h, scale);
        }
        if (Fp32Attention.takesRelative(u, w, k, v, p, h)) {
            return Fp32Attention.attendRelative(u, w, k, v, p, h, scale);
        }
        return null;
    }

    /**
     * The attention's context (B, H, T, dk) computed {@code rows} query rows at a time: for rows [r0, r0 + R) the
     * shift picks position columns [T - r0 - R, 2T - 1 - r0) of p (T + R - 1 of them), so each block multiplies by
     * those only and views its own product shifted ({@link #relShift}'s view, row i starting R - 1 - i columns in).
     * Every score is the same dot product as in the whole product, and each row's softmax and value product see
     * only that row, so the result differs from the whole one only where LibTorch's kernels round products of other
     * shapes differently.
     */
    private Tensor blockedContext(Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long rows) {
        long b = qu.size(0);
        long t = qu.size(2);
        Tensor ctx = OnDevice.of(torch.empty(new long[] {b, h, t, dk}, new TensorOptions(qu.scalar_type()), null), qu);
        Tensor kt = k.transpose(-2, -1);
        Scalar scale = new Scalar(Math.sqrt(dk));
        for (long r0 = 0; r0 < t; r0 += rows) {
            long r = Math.min(rows, t - r0);
            try (org.bytedeco.javacpp.PointerScope block = new org.bytedeco.javacpp.PointerScope()) {
                long cols = t + r - 1;
                Tensor ac = torch.matmul(qu.narrow(2, r0, r), kt); // (B, H, R, T)
                Tensor bd = torch.matmul(qv.narrow(2, r0, r), p.narrow(2, t - r0 - r, cols).transpose(-2, -1))
                        .contiguous(); // (B, H, R, T + R - 1)
                Tensor shifted = bd.as_strided(new long[] {b, h, r, t},
                        new long[] {h * r * cols, r * cols, cols - 1, 1},
                        new org.bytedeco.pytorch.LongOptional(bd.storage_offset() + r - 1));
                Tensor attn = torch.softmax(ac.add_(shifted).div_(scale), -1);
                ctx.narrow(2, r0, r).copy_(torch.matmul(attn, v));
            }
        }
        return ctx;
    }

    /**
     * (B, H, T, 2T-1) -> (B, H, T, T): out[i][j] = x[i][j + T-1-i], done like upstream (pad a zero column on the left,
     * reinterpret as (2T, T), drop the first row, reinterpret back, keep T columns).
     */
    static Tensor relShift(Tensor x) {
        long b = x.size(0);
        long hh = x.size(1);
        long t1 = x.size(2);
        long t2 = x.size(3);
        if (t2 == 2 * t1 - 1 && x.is_contiguous()) {
            // the same elements as a view, no copy: row i starts t2 - 1 elements after row i - 1, at T-1-i
            return x.as_strided(new long[] {b, hh, t1, t1}, new long[] {hh * t1 * t2, t1 * t2, t2 - 1, 1},
                    new org.bytedeco.pytorch.LongOptional(x.storage_offset() + t1 - 1));
        }
        Tensor zero = OnDevice.of(torch.zeros(new long[] {b, hh, t1, 1}, new TensorOptions(x.scalar_type())), x);
        Tensor padded = torch.cat(new TensorArrayRef(new TensorVector(zero, x)), -1).view(b, hh, t2 + 1, t1);
        return padded.narrow(2, 1, t2).reshape(b, hh, t1, t2).narrow(3, 0, t2 / 2 + 1);
    }

    static void shapes(Map<String, long[]> m, String prefix, long nFeat, long nHead) {
        Linear.shapes(m, prefix + ".linear_q", nFeat, nFeat, true);
        Linear.shapes(m, prefix + ".linear_k", nFeat, nFeat, true);
        Linear.shapes(m, prefix + ".linear_v", nFeat, nFeat, true);
        Linear.shapes(m, prefix + ".linear_out", nFeat, nFeat, true);
        Linear.shapes(m, prefix + ".linear_pos", nFeat, nFeat, false);
        m.put(prefix + ".pos_bias_u", new long[] {nHead, nFeat / nHead});
        m.put(prefix + ".pos_bias_v", new long[] {nHead, nFeat / nHead});
    }
}
