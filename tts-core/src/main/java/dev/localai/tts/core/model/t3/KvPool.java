package dev.localai.tts.core.model.t3;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The KV caches of a batched decoder's sessions as slots of one tensor per layer and kind, (slots, capacity, heads,
 * headDim), so that a batched decode step writes every row's new key and value with one indexed copy and attends all
 * rows with one masked attention, instead of a handful of kernel launches per row and layer. That is meant for a GPU:
 * there per-row attention made a 16-row step cost 10-12 one-row steps (H200, docs/performance.md "GPU"). Opt-in
 * ({@code -Dlocalai.tts.kvPool=true}) until it is measured faster there; the CPU keeps per-row attention on its
 * native kernels and never makes a pool.
 *
 * <p>A session's {@link KvCache} is a view of its slot ({@code (heads, capacity, headDim)}, strided), leased when the
 * session starts and handed back when it closes. A session that needs more positions than a slot holds, or finds
 * every slot taken, gets a cache of its own, and a batch holding such a row takes the per-row path. A slot is zeroed
 * when leased, so the positions a shorter row masks out hold finite values (a masked key's weight is exactly 0, but
 * 0 x NaN is NaN).
 *
 * <p>Owns its tensors (freed by {@link #close()}, after the sessions); thread-safe.
 */
final class KvPool implements AutoCloseable {
    private final Tensor[] k;
    private final Tensor[] v;
    private final int slots;
    private final int capacity;
    private final ScalarType dtype;
    private final boolean[] taken;

    KvPool(T3Config c, int slots, int capacity, ScalarType dtype, org.bytedeco.pytorch.Device device) {
        this.slots = slots;
        this.capacity = capacity;
        this.dtype = dtype;
        this.taken = new boolean[slots];
        this.k = new Tensor[c.nLayer()];
        this.v = new Tensor[c.nLayer()];
        long[] shape = {slots, capacity, c.nHead(), c.headDim()};
        try (DeviceOptional dev = new DeviceOptional(device);
             TensorOptions opts = new TensorOptions(dtype);
             TensorOptions o2 = opts.device(dev)) {
            for (int i = 0; i < k.length; i++) {
                k[i] = torch.zeros(shape, o2).retainReference();
                v[i] = torch.zeros(shape, o2).retainReference();
            }
        }
    }

    /** Positions one slot holds. */
    int capacity() {
        return capacity;
    }

    /** Layer {@code layer}'s keys of every slot, (slots, capacity, heads, headDim), contiguous. */
    Tensor k(int layer) {
        return k[layer];
    }

    /** Layer {@code layer}'s values of every slot, (slots, capacity, heads, headDim), contiguous. */
    Tensor v(int layer) {
        return v[layer];
    }

    /** A zeroed slot's cache for up to {@link #capacity()} positions, or null when {@code positions} do not fit or every slot is taken. */
    synchronized KvCache lease(int positions) {
        if (positions > capacity) {
            return null;
        }
        for (int s = 0; s < slots; s++) {
            if (!taken[s]) {
                taken[s] = true;
                try {
                    return view(s);
                } catch (RuntimeException e) {
                    taken[s] = false;
                    throw e;
                }
            }
        }
        return null;
    }

    private KvCache view(int slot) {
        Tensor[] ks = new Tensor[k.length];
        Tensor[] vs = new Tensor[k.length];
        try (PointerScope scope = new PointerScope()) {
            for (int i = 0; i < k.length; i++) {
                Tensor ki = k[i].select(0, slot);
                Tensor vi = v[i].select(0, slot);
                ki.zero_();
                vi.zero_();
                ks[i] = ki.transpose(0, 1).retainReference(); // (heads, capacity, headDim)
                vs[i] = vi.transpose(0, 1).retainReference();
            }
        }
        return new KvCache(ks, vs, capacity, dtype, this, slot);
    }

    synchronized void release(int slot) {
        taken[slot] = false;
    }

    /** Slots leased now. */
    synchronized int leased() {
        int n = 0;
        for (boolean t : taken) {
            n += t ? 1 : 0;
        }
        return n;
    }

    @Override
    public void close() {
        for (int i = 0; i < k.length; i++) {
            k[i].close();
            v[i].close();
        }
    }

    /**
     * The index tensors of one batched step whose rows all hold slots of this pool, made once per step (one copy to
     * the device) and shared by every layer: each row's slot, its new position's flat row in a layer's
     * {@code (slots * capacity, heads * headDim)} view, its position, its previous token, and the attention bias
     * {@code (n, 1, 1, maxLen)} (row i sees positions 0..pos[i]). Tensors of the caller's scope.
     */
    static final class Rows {
        final int n;
        final long maxLen;
        final Tensor slots;
        final Tensor flat;
        final Tensor positions;
        final Tensor tokens;
        /** 0 where row i sees position j (j &lt;= pos[i]), -inf elsewhere: (n, 1, 1, maxLen) fp32. */
        final Tensor bias;

        private Rows(int n, long maxLen, Tensor all) {
            this.n = n;
            this.maxLen = maxLen;
            this.slots = all.narrow(0, 0, n);
            this.flat = all.narrow(0, n, n);
            this.positions = all.narrow(0, 2L * n, n);
            this.tokens = all.narrow(0, 3L * n, n);
            Tensor range = all.narrow(0, 4L * n, maxLen);
            Tensor hidden = range.unsqueeze(0).gt(positions.unsqueeze(1)).view(n, 1, 1, maxLen);
            this.bias = hidden.to(ScalarType.Float).masked_fill_(hidden, new Scalar(Double.NEGATIVE_INFINITY));
        }
    }

    /** The step's {@link Rows} where every one of the n rows' caches is a slot of this pool, else null. */
    Rows rows(int n, int[] tokens, int[] pos, KvCache[] caches, org.bytedeco.pytorch.Device device) {
        int maxPos = 0;
        for (int i = 0; i < n; i++) {
            if (caches[i].pool() != this) {
                return null;
            }
            maxPos = Math.max(maxPos, pos[i]);
        }
        long maxLen = maxPos + 1L;
        long[] host = new long[(int) (4L * n + maxLen)];
        for (int i = 0; i < n; i++) {
            int s = caches[i].slot();
            host[i] = s;
            host[n + i] = (long) s * capacity + pos[i];
            host[2 * n + i] = pos[i];
            host[3 * n + i] = tokens[i];
        }
        for (int j = 0; j < maxLen; j++) {
            host[4 * n + j] = j;
        }
        Tensor all = Tensor.create(host, host.length);
        return new Rows(n, maxLen, all.to(device, ScalarType.Long));
    }
}
