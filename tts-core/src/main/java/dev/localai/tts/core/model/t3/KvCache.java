package dev.localai.tts.core.model.t3;

import org.bytedeco.pytorch.DeviceOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Preallocated key/value cache of a GPT-2 stack for batch 1: per layer K and V of shape (heads, capacity, headDim),
 * allocated once; prefill and decode steps write rows in place, attention reads a narrowed view. Nothing is
 * re-allocated or re-run as the sequence grows.
 */
public final class KvCache implements AutoCloseable {
    private final Tensor[] k;
    private final Tensor[] v;
    private final int capacity;
    private final long bytes;
    /** Each layer's K and V data addresses (for the native decode kernel), read once. */
    private final long[] kAddress;
    private final long[] vAddress;
    private final boolean nativeReadable;
    private final boolean half;
    /** The pool whose slot this cache is, or null where it owns its tensors. */
    private final KvPool pool;
    private final int slot;
    private int length;
    private boolean closed;

    KvCache(int nLayer, int nHead, int headDim, int capacity, ScalarType dtype, org.bytedeco.pytorch.Device device) {
        this.capacity = capacity;
        this.k = new Tensor[nLayer];
        this.v = new Tensor[nLayer];
        long[] shape = {nHead, capacity, headDim};
        this.bytes = 2L * nLayer * nHead * capacity * headDim * elementBytes(dtype);
        try (DeviceOptional dev = new DeviceOptional(device);
             TensorOptions opts = new TensorOptions(dtype);
             TensorOptions o2 = opts.device(dev)) {
            for (int i = 0; i < nLayer; i++) {
                k[i] = torch.empty(shape, o2, null).retainReference();
                v[i] = torch.empty(shape, o2, null).retainReference();
            }
        }
        this.half = dtype == ScalarType.Half;
        this.nativeReadable = (dtype == ScalarType.Float || half) && !device.is_cuda();
        this.pool = null;
        this.slot = -1;
        this.kAddress = new long[nLayer];
        this.vAddress = new long[nLayer];
        for (int i = 0; i < nLayer; i++) {
            kAddress[i] = k[i].data_ptr().address();
            vAddress[i] = v[i].data_ptr().address();
        }
    }

    /**
     * Slot {@code slot} of {@code pool}: per layer K and V views (heads, capacity, headDim), strided, which this cache
     * holds a reference to and releases on {@link #close()}, when the slot goes back to the pool. Never read by the
     * native CPU kernels (their caches are contiguous and their own).
     */
    KvCache(Tensor[] k, Tensor[] v, int capacity, ScalarType dtype, KvPool pool, int slot) {
        this.k = k;
        this.v = v;
        this.capacity = capacity;
        this.bytes = 2L * k.length * k[0].numel() * elementBytes(dtype);
        this.half = dtype == ScalarType.Half;
        this.nativeReadable = false;
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

    /** Whether the cache is fp32 or fp16 in CPU memory (what the native block kernel reads). */
    boolean nativeReadable() {
        return nativeReadable;
    }

    /** Whether the cache holds fp16. */
    boolean half() {
        return half;
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
        }
        if (pool != null) {
            pool.release(slot);
        }
    }
}
