package dev.localai.tts.core.nn;

import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The element type of a key/value cache that this project's CPU kernels read ({@link CpuAttention},
 * {@link DecoderBlockKernel}); the codes are those of {@code tts_kernels.h}.
 *
 * <p>{@link #INT8}: each head's row of keys (or values) at one position holds {@code round(x * 127 / max|x|)} within
 * +-127, and a float row scale {@code max|x| / 127} (a row of zeros: scale 0), so a dequantized element is within
 * half a step, {@code max|x| / 254}, of the value written. The row scales of a layer's cache, (heads, capacity)
 * floats, follow its (heads, capacity, headDim) bytes in the same allocation. A decode step reads the whole cache: int8
 * holds a quarter of fp32's bytes and half of fp16's (on the AMD EPYC Zen 5 VM of docs/performance.md, "Thirtieth
 * round", a step no slower than with fp16 on any path, by 0-6% faster, and a session's cache half the memory).
 */
public enum KvType {
    /** fp32 values. */
    FP32(0, 4),
    /** fp16 values, rounded to nearest even, saturating at +-65504. */
    FP16(1, 2),
    /** int8 values with one fp32 scale per head's row. */
    INT8(2, 1);

    private final int code;
    private final int bytes;

    KvType(int code, int bytes) {
        this.code = code;
        this.bytes = bytes;
    }

    /** The kernels' code for it. */
    public int code() {
        return code;
    }

    /** Bytes per element (an int8 cache also holds 4 bytes of scale per row). */
    public int bytes() {
        return bytes;
    }

    /** Bytes of one layer's keys (or values) for {@code rows} head rows of {@code headDim}, scales included. */
    public long layerBytes(long rows, long headDim) {
        return rows * headDim * bytes + (this == INT8 ? rows * Float.BYTES : 0);
    }

    /**
     * One layer of an {@link #INT8} cache seen in its allocation {@code layer} (int8, contiguous, at least
     * {@link #layerBytes} long): its values (heads, capacity, headDim), from the first byte. A new view in the
     * caller's scope; the allocation lives as long as any view of it.
     */
    public static Tensor int8Values(Tensor layer, long heads, long capacity, long headDim) {
        return layer.narrow(0, 0, heads * capacity * headDim).view(heads, capacity, headDim);
    }

    /** The row scales (heads, capacity) fp32 of the same layer: the bytes right after its values, as a new view. */
    public static Tensor int8Scales(Tensor layer, long heads, long capacity, long headDim) {
        long rows = heads * capacity;
        return layer.narrow(0, rows * headDim, rows * Float.BYTES).view(ScalarType.Float).view(heads, capacity);
    }

    /** Its lower-case name, as the {@code localai.tts.kvCache} property spells it. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Parses {@code fp32}, {@code fp16} or {@code int8} (case-insensitive).
     *
     * @throws IllegalArgumentException for anything else
     */
    public static KvType parse(String s) {
        for (KvType t : values()) {
            if (t.label().equalsIgnoreCase(s.trim())) {
                return t;
            }
        }
        throw new IllegalArgumentException("KV cache type: fp32, fp16 or int8, not '" + s + "'");
    }
}
