package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.DecoderBlockKernel;
import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import org.bytedeco.pytorch.Tensor;

/** Pre-LN GPT-2 block: x + attn(ln_1(x)), then + mlp(ln_2(x)). */
final class GPT2Block {
    final LayerNorm ln_1;
    final GPT2Attention attn;
    final LayerNorm ln_2;
    final GPT2MLP mlp;
    private final int index;
    /** The whole decode step as one native call, where the matrices are on the native int8 kernel; else null. */
    private final DecoderBlockKernel fused;

    GPT2Block(ParamSource p, T3Config c, int index, boolean int8) {
        this.index = index;
        this.ln_1 = new LayerNorm(p.sub("ln_1"), c.nEmbd(), c.layerNormEps());
        this.attn = new GPT2Attention(p.sub("attn"), c, int8);
        this.ln_2 = new LayerNorm(p.sub("ln_2"), c.nEmbd(), c.layerNormEps());
        this.mlp = new GPT2MLP(p.sub("mlp"), c, int8);
        this.fused = int8 ? DecoderBlockKernel.of(ln_1, attn.c_attn.int8, attn.c_attn.bias, attn.c_proj.int8,
                attn.c_proj.bias, ln_2, mlp.c_fc.int8, mlp.c_fc.bias, mlp.c_proj.int8, mlp.c_proj.bias, c.nHead(),
                c.layerNormEps()) : null;
    }

    /** Whether this block can run its decode steps as one native call ({@link DecoderBlockKernel}). */
    boolean fusable() {
        return fused != null;
    }

    /** The block's decode step as one native call, or null ({@link #fusable()}). */
    DecoderBlockKernel kernel() {
        return fused;
    }

    /** x (L, D) -> (L, D), filling the cache rows 0..L-1. */
    Tensor prefill(Tensor x, KvCache cache) {
        return prefill(x, cache, 0);
    }

    /**
     * x (L, D) at positions from..from+L-1 -> (L, D), filling those cache rows (rows before {@code from} are set). Its
     * temporaries (about ten (L, D) to (L, 4D) tensors) are freed before it returns: left in the caller's scope, a
     * 376-position prefill of Turbo's 24 blocks held some 500 MB at once, which a fresh process's first request
     * faulted in (docs/performance.md, "Nineteenth round").
     */
    Tensor prefill(Tensor x, KvCache cache, int from) {
        return Scopes.run(() -> {
            Tensor h = x.add(attn.prefill(ln_1.forward(x), cache, index, from));
            return h.add_(mlp.forward(ln_2.forward(h)));
        });
    }

    /**
     * Updates the residual {@code buf.x} (D) in place for the token at {@code pos}, as LibTorch operations between
     * the kernels of its layers (where the blocks run fused, {@link GPT2Model} runs them all as one native call).
     */
    void step(int pos, KvCache cache, DecodeBuffers buf) {
        attn.step(ln_1.forward(buf.x), pos, cache, index, buf);
        buf.x.add_(buf.proj);
        mlp.step(ln_2.forward(buf.x), buf);
        buf.x.add_(buf.proj);
    }

    /**
     * Updates the residual rows {@code bb.x[0, n)} in place, row i for the token at {@code pos[i]}, as LibTorch
     * operations (fused blocks run from {@link GPT2Model}).
     */
    void stepRows(int n, int[] pos, KvCache[] caches, BatchBuffers bb) {
        Tensor x = BatchBuffers.rows(bb.x, n);
        Tensor proj = BatchBuffers.rows(bb.proj, n);
        attn.stepRows(ln_1.forward(x), n, pos, caches, index, bb);
        x.add_(proj);
        mlp.stepRows(ln_2.forward(x), n, bb);
        x.add_(proj);
    }

    /** {@link #stepRows} for rows whose caches are slots of {@code bb.pool}. */
    void stepRowsPooled(int n, BatchBuffers bb, KvPool.Rows rows) {
        Tensor x = BatchBuffers.rows(bb.x, n);
        Tensor proj = BatchBuffers.rows(bb.proj, n);
        attn.stepRowsPooled(ln_1.forward(x), n, bb.pool, rows, index, bb);
        x.add_(proj);
        mlp.stepRows(ln_2.forward(x), n, bb);
        x.add_(proj);
    }
}
