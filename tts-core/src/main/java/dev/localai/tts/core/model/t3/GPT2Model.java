package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.DecoderBlockKernel;
import dev.localai.tts.core.nn.Embedding;
import dev.localai.tts.core.nn.LayerNorm;
import dev.localai.tts.core.nn.ParamSource;
import org.bytedeco.pytorch.Tensor;

/**
 * Hugging Face {@code GPT2Model} driven by input embeddings: adds the learned positions {@code wpe} (counted across
 * the whole stream), runs the blocks {@code h} and the final {@code ln_f}. Its token table {@code wte} is in the
 * checkpoint but never used (upstream deletes it after loading), so it is skipped, not loaded.
 */
final class GPT2Model {
    final Embedding wpe;
    final GPT2Block[] h;
    final LayerNorm ln_f;
    private final T3Config config;
    /** All blocks' decode steps as one native call, where every block has the kernel; else null. */
    private final DecoderBlockKernel.Stack fused;

    GPT2Model(ParamSource p, T3Config c, boolean int8) {
        this.config = c;
        p.skip("wte.weight");
        this.wpe = new Embedding(p.sub("wpe"), c.nPositions(), c.nEmbd());
        this.h = new GPT2Block[c.nLayer()];
        ParamSource hs = p.sub("h");
        for (int i = 0; i < c.nLayer(); i++) {
            h[i] = new GPT2Block(hs.sub(Integer.toString(i)), c, i, int8);
        }
        this.ln_f = new LayerNorm(p.sub("ln_f"), c.nEmbd(), c.layerNormEps());
        DecoderBlockKernel[] kernels = new DecoderBlockKernel[h.length];
        boolean all = h.length > 0;
        for (int i = 0; i < h.length && all; i++) {
            kernels[i] = h[i].kernel();
            all = kernels[i] != null;
        }
        this.fused = all ? DecoderBlockKernel.stack(kernels) : null;
    }

    /** Whether the blocks can run their decode steps as one native call (all are made alike). */
    boolean fusable() {
        return fused != null;
    }

    /** Whether decode steps over this cache run as one native call now ({@link DecoderBlockKernel}). */
    boolean fusedFor(KvCache cache) {
        return fused != null && DecoderBlockKernel.enabled() && cache.nativeReadable();
    }

    /** Whether decode steps over these caches run as one native call now ({@link DecoderBlockKernel}). */
    private boolean fusedFor(KvCache[] caches, int n) {
        if (fused == null || !DecoderBlockKernel.enabled()) {
            return false;
        }
        for (int i = 0; i < n; i++) {
            if (!caches[i].nativeReadable() || caches[i].type() != caches[0].type()) {
                return false;
            }
        }
        return true;
    }

    /** inputs_embeds (L, D) at positions 0..L-1 -> last hidden states after ln_f (L, D); fills the cache. */
    Tensor prefill(Tensor inputsEmbeds, KvCache cache) {
        long len = inputsEmbeds.size(0);
        checkPosition(len - 1);
        Tensor x = inputsEmbeds.add(wpe.weight.narrow(0, 0, len));
        for (GPT2Block b : h) {
            x = b.prefill(x, cache);
        }
        cache.setLength((int) len);
        return ln_f.forward(x);
    }

    /**
     * inputs_embeds (L, D) at positions from..from+L-1, after a cache already holding rows 0..from-1 (a voice's
     * prefix) -> hidden states after ln_f (L, D); fills the cache up to from+L.
     */
    Tensor prefillFrom(Tensor inputsEmbeds, KvCache cache, int from) {
        if (from == 0) {
            return prefill(inputsEmbeds, cache);
        }
        if (cache.length() != from) {
            throw new IllegalStateException("prefill from position " + from + " but the cache holds "
                    + cache.length());
        }
        long len = inputsEmbeds.size(0);
        checkPosition(from + len - 1);
        Tensor x = inputsEmbeds.add(wpe.weight.narrow(0, from, len));
        for (GPT2Block b : h) {
            x = b.prefill(x, cache, from);
        }
        cache.setLength((int) (from + len));
        return ln_f.forward(x);
    }

    /** One token embedding (D) at position {@code pos} (= cache length) -> hidden state after ln_f (D). */
    Tensor step(Tensor embed, int pos, KvCache cache, DecodeBuffers buf) {
        if (pos != cache.length()) {
            throw new IllegalStateException("step at position " + pos + " but the cache holds " + cache.length());
        }
        checkPosition(pos);
        buf.x.copy_(embed);
        buf.x.add_(wpe.row(pos));
        if (fusedFor(cache)) {
            for (int l = 0; l < h.length; l++) {
                buf.kLayers[l] = cache.kAddress(l);
                buf.vLayers[l] = cache.vAddress(l);
            }
            buf.capacityRow[0] = cache.capacity();
            buf.posRow[0] = pos;
            if (DecoderBlockKernel.stacked()) {
                fused.step(buf.xRow, 1, buf.kLayers, buf.vLayers, buf.capacityRow, buf.posRow, cache.type());
            } else {
                for (int l = 0; l < h.length; l++) {
                    buf.kRow[0] = buf.kLayers[l];
                    buf.vRow[0] = buf.vLayers[l];
                    h[l].kernel().step(buf.xRow, 1, buf.kRow, buf.vRow, buf.capacityRow, buf.posRow, cache.type());
                }
            }
        } else {
            for (GPT2Block b : h) {
                b.step(pos, cache, buf);
            }
        }
        cache.setLength(pos + 1);
        return ln_f.forward(buf.x);
    }

    /**
     * One decode step for n sessions at once: row i of {@code bb.x} holds token i's embedding on entry; positions
     * {@code pos[i]} (each the length of {@code caches[i]}) are added, the blocks run over all rows together and the
     * hidden states after ln_f (n, D) are returned.
     */
    Tensor stepRows(int n, int[] pos, KvCache[] caches, BatchBuffers bb) {
        checkRows(n, pos, caches);
        for (int i = 0; i < n; i++) {
            bb.x.select(0, i).add_(wpe.row(pos[i]));
        }
        if (fusedFor(caches, n)) {
            for (int l = 0; l < h.length; l++) {
                for (int i = 0; i < n; i++) {
                    bb.kRows[l * n + i] = caches[i].kAddress(l);
                    bb.vRows[l * n + i] = caches[i].vAddress(l);
                }
            }
            for (int i = 0; i < n; i++) {
                bb.capacities[i] = caches[i].capacity();
            }
            fused.step(bb.x, n, bb.kRows, bb.vRows, bb.capacities, pos, caches[0].type());
        } else {
            for (GPT2Block b : h) {
                b.stepRows(n, pos, caches, bb);
            }
        }
        for (int i = 0; i < n; i++) {
            caches[i].setLength(pos[i] + 1);
        }
        return ln_f.forward(BatchBuffers.rows(bb.x, n));
    }

    /**
     * {@link #stepRows} where every row's cache is a slot of {@code bb.pool}: the positions' embeddings, each block's
     * cache writes and attention go through {@code rows}' index tensors, one operation for all rows.
     */
    Tensor stepRowsPooled(int n, int[] pos, KvCache[] caches, BatchBuffers bb, KvPool.Rows rows) {
        checkRows(n, pos, caches);
        Tensor x = BatchBuffers.rows(bb.x, n);
        x.add_(wpe.weight.index_select(0, rows.positions));
        for (GPT2Block b : h) {
            b.stepRowsPooled(n, bb, rows);
        }
        for (int i = 0; i < n; i++) {
            caches[i].setLength(pos[i] + 1);
        }
        return ln_f.forward(x);
    }

    /** Each row steps at its cache's length, within the learned positions. */
    private void checkRows(int n, int[] pos, KvCache[] caches) {
        for (int i = 0; i < n; i++) {
            if (pos[i] != caches[i].length()) {
                throw new IllegalStateException("row " + i + " steps at position " + pos[i] + " but its cache holds "
                        + caches[i].length());
            }
            checkPosition(pos[i]);
        }
    }

    private void checkPosition(long pos) {
        if (pos >= config.nPositions()) {
            throw new IllegalStateException("position " + pos + " beyond the " + config.nPositions()
                    + " learned positions");
        }
    }
}
