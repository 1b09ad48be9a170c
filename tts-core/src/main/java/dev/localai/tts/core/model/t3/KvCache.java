package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.nn.KvType;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.ScalarOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Preallocated key/value cache of a GPT-2 stack for batch 1: per layer K and V of shape (heads, capacity, headDim),
 * allocated once; prefill and decode steps write rows in place, attention reads a narrowed view. Nothing is
 * re-allocated or re-run as the sequence grows.
 *
 * <p>Element types: the model's dtype, fp16, or int8 on the CPU ({@link KvType#INT8}: {@code ScalarType.Char} here),
 * where each head's row at a position is quantized on its own and its fp32 scale kept in (heads, capacity) floats
 * right after the layer's values, in the same allocation, where the native kernels find them. Rows go in through
 * {@link #write} and come out through {@link #keys}/{@link #values}, which quantize and dequantize an int8 cache (the
 * same operations, and so the same bits, as the native decode step's {@code tts_quantize_kv_row}).
 */
public final class KvCache implements AutoCloseable {
    private static final Scalar Q_MAX = new Scalar(127.0).retainReference();
    private static final Scalar Q_MIN = new Scalar(-127.0).retainReference();
    private static final Scalar ZERO = new Scalar(0.0).retainReference();
    /** 1 / 127 as a float (its double value converts back exactly), as the C code's {@code 1.0f / 127.0f}. */
    private static final Scalar INV_Q_MAX = new Scalar((double) (1.0f / 127.0f)).retainReference();

    private final Tensor[] k;
    private final Tensor[] v;
    /** An int8 cache's row scales per layer, (heads, capacity) fp32 views into its allocation; else null. */
    private final Tensor[] kScale;
    private final Tensor[] vScale;
    private final int capacity;
    private final long bytes;
    /** Each layer's K and V data addresses (for the native decode kernel), read once. */
    private final long[] kAddress;
    private final long[] vAddress;
    /** The element type the native kernels read it as, or null where they do not (a GPU, bf16, a pool's slot). */
    private final KvType type;
    /** The pool whose slot this cache is, or null where it owns its tensors. */
    private final KvPool pool;
    private final int slot;
    private int length;
    private boolean closed;

    /**
     * A cache of {@code dtype} on {@code device}; {@code ScalarType.Char} makes an int8 cache with row scales, on the
     * CPU only.
     */
    KvCache(int nLayer, int nHead, int headDim, int capacity, ScalarType dtype, org.bytedeco.pytorch.Device device) {
        this.capacity = capacity;
        this.k = new Tensor[nLayer];
        this.v = new Tensor[nLayer];
        boolean int8 = dtype == ScalarType.Char;
        if (int8 && device.is_cuda()) {
            throw new IllegalArgumentException("KV cache: int8 caches are for the CPU's kernels");
        }
        long[] shape = {nHead, capacity, headDim};
        long rows = (long) nHead * capacity;
        this.type = device.is_cuda() ? null : nativeType(dtype);
        long layerBytes = int8 ? KvType.INT8.layerBytes(rows, headDim) : rows * headDim * elementBytes(dtype);
        this.bytes = 2L * nLayer * layerBytes;
        this.kScale = int8 ? new Tensor[nLayer] : null;
        this.vScale = int8 ? new Tensor[nLayer] : null;
        try (DeviceOptional dev = new DeviceOptional(device);
             TensorOptions opts = new TensorOptions(int8 ? ScalarType.Char : dtype);
             TensorOptions o2 = opts.device(dev)) {
            for (int i = 0; i < nLayer; i++) {
                if (int8) {
                    k[i] = int8Layer(layerBytes, shape, o2, kScale, i);
                    v[i] = int8Layer(layerBytes, shape, o2, vScale, i);
                } else {
                    k[i] = torch.empty(shape, o2, null).retainReference();
                    v[i] = torch.empty(shape, o2, null).retainReference();
                }
            }
        }
        this.pool = null;
        this.slot = -1;
        this.kAddress = new long[nLayer];
        this.vAddress = new long[nLayer];
        for (int i = 0; i < nLayer; i++) {
            kAddress[i] = k[i].data_ptr().address();
            vAddress[i] = v[i].data_ptr().address();
        }
    }

    /** One layer's int8 values (heads, capacity, headDim) and, after them, its row scales (heads, capacity) fp32. */
    private static Tensor int8Layer(long layerBytes, long[] shape, TensorOptions opts, Tensor[] scales, int layer) {
        try (PointerScope scope = new PointerScope()) {
            Tensor raw = torch.empty(new long[] {layerBytes}, opts, null);
            scales[layer] = KvType.int8Scales(raw, shape[0], shape[1], shape[2]).retainReference();
            return KvType.int8Values(raw, shape[0], shape[1], shape[2]).retainReference();
        }
    }

    /** The element type the native kernels read a CPU cache of {@code dtype} as, or null (bf16). */
    private static KvType nativeType(ScalarType dtype) {
        return dtype == ScalarType.Float ? KvType.FP32 : dtype == ScalarType.Half ? KvType.FP16
                : dtype == ScalarType.Char ? KvType.INT8 : null;
    }

    /**
     * Slot {@code slot} of {@code pool}: per layer K and V views (heads, capacity, headDim), strided, which this cache
     * holds a reference to and releases on {@link #close()}, when the slot goes back to the pool. Never read by the
     * native CPU kernels (their caches are contiguous and their own).
     */
    KvCache(Tensor[] k, Tensor[] v, int capacity, ScalarType dtype, KvPool pool, int slot) {
        if (dtype == ScalarType.Char) {
            throw new IllegalArgumentException("KV cache: a pool's slots are not int8");
        }
        this.k = k;
        this.v = v;
        this.kScale = null;
        this.vScale = null;
        this.capacity = capacity;
        this.bytes = 2L * k.length * k[0].numel() * elementBytes(dtype);
        this.type = null;
        this.pool = pool;
        this.slot = slot;
        this.kAddress = new long[k.length];
        this.vAddress = new long[k.length];
    }

    private static int elementBytes(ScalarType dtype) {
        return dtype == ScalarType.Float ? 4 : 2;
    }

    /** The pool this cache is a slot of, or null. */
    KvPool pool() {
        return pool;
    }

    /** Its slot in {@link #pool()}, or -1. */
    int slot() {
        return slot;
    }

    /** Whether the native CPU kernels read the cache (fp32, fp16 or int8 in CPU memory, its own tensors). */
    boolean nativeReadable() {
        return type != null;
    }

    /** The element type the native kernels read it as, or null where they do not ({@link #nativeReadable()}). */
    KvType type() {
        return type;
    }

    /**
     * Writes keys and values (heads, n, headDim), any float dtype and strides, at positions {@code from..from+n-1}
     * of layer {@code layer}: copied in the cache's element type, or quantized per head row for int8.
     */
    void write(int layer, long from, Tensor keys, Tensor values) {
        long n = keys.size(1);
        if (kScale == null) {
            try (Tensor kc = k[layer].narrow(1, from, n); Tensor vc = v[layer].narrow(1, from, n)) {
                kc.copy_(keys);
                vc.copy_(values);
            }
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            quantize(keys, k[layer].narrow(1, from, n), kScale[layer].narrow(1, from, n));
            quantize(values, v[layer].narrow(1, from, n), vScale[layer].narrow(1, from, n));
        }
    }

    /**
     * x (heads, n, d) -> q (heads, n, d) int8 and scale (heads, n): amax = max|x| per row, q = round(clamp(x * (127 /
     * amax), +-127)) (0 where amax is 0 or NaN), scale = amax * (1 / 127.f) (NaN where the row holds a NaN, which then
     * reaches the attention's output as it would from an fp32 cache). Each step a single IEEE float operation, in the
     * order {@code tts_quantize_kv_row} takes, so both write the same bits ({@code KvCacheTest},
     * {@code DecoderBlockKernelTest}).
     */
    private static void quantize(Tensor x, Tensor q, Tensor scale) {
        Tensor xf = x.scalar_type().value == ScalarType.Float.value ? x : x.to(ScalarType.Float);
        Tensor amax = xf.abs().amax(new long[] {-1}, true);
        Tensor inv = torch.full_like(amax, Q_MAX).div_(amax);
        inv.masked_fill_(amax.eq(ZERO), ZERO);
        Tensor y = xf.mul(inv).clamp_(new ScalarOptional(Q_MIN), new ScalarOptional(Q_MAX)).round_();
        y.masked_fill_(y.isnan(), ZERO);
        q.copy_(y);
        scale.copy_(amax.squeeze(-1).mul(INV_Q_MAX));
    }

    /**
     * Layer {@code layer}'s keys at positions 0..len-1 (heads, len, headDim): a view of the cache, or for int8 a new
     * fp32 tensor of the dequantized rows ({@code q * scale}); in the caller's scope either way.
     */
    Tensor keys(int layer, long len) {
        return read(k[layer], kScale == null ? null : kScale[layer], len);
    }

    /** Layer {@code layer}'s values at positions 0..len-1, as {@link #keys}. */
    Tensor values(int layer, long len) {
        return read(v[layer], vScale == null ? null : vScale[layer], len);
    }

    private static Tensor read(Tensor t, Tensor scale, long len) {
        Tensor rows = t.narrow(1, 0, len);
        return scale == null ? rows : rows.to(ScalarType.Float).mul_(scale.narrow(1, 0, len).unsqueeze(-1));
    }

    /**
     * Copies rows 0..len-1 of every layer of {@code from} (its length), of the same element type and shape, into this
     * cache, scales included, and sets this cache's length to it.
     */
    void copyPrefix(KvCache from) {
        int len = from.length();
        if (from.layers() != layers() || from.type != type || (from.kScale == null) != (kScale == null)
                || len > capacity) {
            throw new IllegalArgumentException("KV cache: a prefix of " + len + " positions of another shape or type");
        }
        for (int l = 0; l < k.length; l++) {
            copyRows(k[l], from.k[l], len);
            copyRows(v[l], from.v[l], len);
            if (kScale != null) {
                copyRows(kScale[l], from.kScale[l], len);
                copyRows(vScale[l], from.vScale[l], len);
            }
        }
        setLength(len);
    }

    private static void copyRows(Tensor into, Tensor from, long len) {
        try (Tensor a = into.narrow(1, 0, len); Tensor b = from.narrow(1, 0, len)) {
            a.copy_(b);
        }
    }

    /** The address of layer {@code layer}'s K tensor, contiguous (heads, capacity, headDim). */
    long kAddress(int layer) {
        return kAddress[layer];
    }

    /** The address of layer {@code layer}'s V tensor, contiguous (heads, capacity, headDim). */
    long vAddress(int layer) {
        return vAddress[layer];
    }

    public int capacity() {
        return capacity;
    }

    /** Positions filled so far. */
    public int length() {
        return length;
    }

    void setLength(int length) {
        if (length > capacity) {
            throw new IllegalStateException("KV cache overflow: " + length + " > capacity " + capacity);
        }
        this.length = length;
    }

    Tensor k(int layer) {
        return k[layer];
    }

    Tensor v(int layer) {
        return v[layer];
    }

    int layers() {
        return k.length;
    }

    /** Bytes held by the cache. */
    public long bytes() {
        return bytes;
    }

    @Override
    public void close() {
        if (closed) {
            return; // a second close must not hand back a slot leased again meanwhile
        }
        closed = true;
        for (int i = 0; i < k.length; i++) {
            k[i].close();
            v[i].close();
            if (kScale != null) {
                kScale[i].close();
                vScale[i].close();
            }
        }
        if (pool != null) {
            pool.release(slot);
        }
    }
}
