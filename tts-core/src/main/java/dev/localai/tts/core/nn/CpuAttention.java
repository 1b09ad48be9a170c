package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One decode step's attention on the CPU by this project's kernel ({@code src/main/c/attention_kernel.c}): per head,
 * {@code softmax(q k^T * scale) v} for one query over the first {@code len} cached keys and values, read straight from
 * the cache (fp32), each once. A decode step of T3 reads 98 MB of keys and values at 500 positions (24 layers);
 * LibTorch's cheapest form (batched {@code baddbmm}, {@code softmax}, {@code bmm}) read them at about half the speed
 * memory gives on the Intel Xeon VM. Heads are split over LibTorch's OpenMP threads, one head per thread, so the result
 * does not depend on the thread count; the AVX-512, AVX2 and SSE2 (plain C for heads other than 64) paths add in
 * different orders (rounding only).
 *
 * <p>Whether T3 uses it is process-wide ({@link #useForDecode}), set by the engine from the weight-type probe's timing
 * of both forms; the system property {@code localai.tts.decodeAttention} ({@code native} or {@code libtorch}) fixes
 * it for comparisons.
 */
public final class CpuAttention {
    /** The kernel's paths, in the order of their codes on the C side (0, 1, 3). */
    private static final int SSE2 = 0;
    private static final int AVX2 = 1;
    private static final int AVX512 = 3;
    /** The system property that fixes the choice over the probe's. */
    public static final String PROPERTY = "localai.tts.decodeAttention";

    private static final int PATH = NativeKernels.available()
            ? capped(bestPath(), System.getenv("ATEN_CPU_CAPABILITY")) : -1;
    private static volatile boolean forDecode = PATH >= 0 && "native".equalsIgnoreCase(System.getProperty(PROPERTY));

    private CpuAttention() {}

    /** Whether the kernel is loaded here. */
    public static boolean available() {
        return PATH >= 0;
    }

    /**
     * The path in use: {@code avx512}, {@code avx2}, or {@code sse2} (a CPU without AVX2: SSE2 for heads of 64, plain C
     * for other sizes); null when not available.
     */
    public static String path() {
        return switch (PATH) {
            case AVX512 -> "avx512";
            case AVX2 -> "avx2";
            case SSE2 -> "sse2";
            default -> null;
        };
    }

    /** The path under LibTorch's dispatch cap ({@link NativeKernels#capped}: avx2 gives 1, default 0). */
    static int capped(int cpu, String atenCapability) {
        return NativeKernels.capped(cpu, atenCapability);
    }

    /** The path's code for the C side (-1 when not available). */
    static int pathCode() {
        return PATH;
    }

    /** Whether T3's decode steps use this kernel (see {@link #useForDecode}). */
    public static boolean usedForDecode() {
        return forDecode;
    }

    /**
     * Whether T3's CPU fp32 decode steps use this kernel from now on: {@code measuredFaster}, unless
     * {@link #PROPERTY} fixes it; never where the kernel is not available. Returns the setting now in force.
     */
    public static boolean useForDecode(boolean measuredFaster) {
        String fixed = System.getProperty(PROPERTY);
        boolean on = fixed == null || fixed.isBlank() ? measuredFaster : "native".equalsIgnoreCase(fixed);
        forDecode = on && available();
        return forDecode;
    }

    /**
     * {@code out} (heads, ..., d) = softmax(q k^T * scale) v per head, for one query per head {@code q} (heads, ..., d)
     * over the first {@code len} rows of {@code k} and {@code v} (heads, rows, d): fp32 CPU tensors, q and out
     * contiguous, k and v with contiguous rows (a narrowed view of a longer cache is fine).
     */
    public static void oneQuery(Tensor q, Tensor k, Tensor v, int len, double scale, Tensor out) {
        long heads = k.size(0);
        long d = k.size(2);
        boolean ok = available() && is(q) && is(k) && is(v) && is(out) && q.is_contiguous() && out.is_contiguous()
                && q.numel() == heads * d && out.numel() == heads * d && k.dim() == 3 && v.dim() == 3
                && v.size(0) == heads && v.size(2) == d && k.size(1) >= len && v.size(1) >= len && len > 0
                && k.stride(2) == 1 && v.stride(2) == 1 && k.stride(1) == d && v.stride(1) == d
                && k.stride(0) == v.stride(0);
        if (!ok) {
            throw new IllegalArgumentException("decode attention: q " + q.sizes().vec() + ", k " + k.sizes().vec()
                    + ", v " + v.sizes().vec() + ", len " + len + ": fp32 CPU tensors with contiguous rows needed"
                    + (available() ? "" : " (and the native kernel, which is not loaded here)"));
        }
        int threads = heads * len * d < (1L << 16) ? 1 : torch.get_num_threads();
        int rc = oneQuery(q.data_ptr().address(), k.data_ptr().address(), v.data_ptr().address(), (int) heads,
                (int) d, k.stride(0), len, (float) scale, out.data_ptr().address(), PATH, threads);
        if (rc != 0) {
            throw new OutOfMemoryError("decode attention: no memory for the scores of " + len + " positions");
        }
    }

    /**
     * A prefill's attention straight from a KV cache: query row r of {@code q} (rows, heads * d; fp32 CPU, rows of
     * contiguous values, any row stride) sits at position {@code from + r} and attends, per head, over the cache rows
     * {@code 0..from + r}, which must already hold its own and every earlier row's keys and values (causal, without a
     * mask); {@code k}, {@code v}: the addresses of one layer's (heads, capacity, d) cache of element type
     * {@code type} (an int8 cache's row scales after its values); {@code out} (rows, heads * d) contiguous fp32. The
     * same sums as a decode step's attention at each position, so a row's result does not depend on the other rows or
     * the thread count.
     */
    public static void prefill(Tensor q, int from, long k, long v, int heads, int d, int capacity, KvType type,
            double scale, Tensor out) {
        long rows = q.size(0);
        boolean ok = available() && is(q) && is(out) && q.dim() == 2 && q.size(1) == (long) heads * d
                && q.stride(1) == 1 && out.is_contiguous() && out.dim() == 2 && out.size(0) == rows
                && out.size(1) == (long) heads * d && from >= 0 && from + rows <= capacity && k != 0 && v != 0
                && type != null;
        if (!ok) {
            throw new IllegalArgumentException("prefill attention: q " + q.sizes().vec() + ", out "
                    + out.sizes().vec() + ", from " + from + ", capacity " + capacity
                    + ": fp32 CPU tensors with contiguous rows needed"
                    + (available() ? "" : " (and the native kernel, which is not loaded here)"));
        }
        int threads = rows * heads * (from + rows) * d < (1L << 16) ? 1 : torch.get_num_threads();
        int rc = prefill(q.data_ptr().address(), q.stride(0), (int) rows, from, k, v, heads, d,
                (long) capacity * d, type.code(), (float) scale, out.data_ptr().address(), PATH, threads);
        if (rc != 0) {
            throw new OutOfMemoryError("prefill attention: no memory for the scores of " + (from + rows)
                    + " positions");
        }
    }

    private static boolean is(Tensor t) {
        return t.scalar_type().value == ScalarType.Float.value && !t.is_cuda();
    }

    private static native int bestPath();

    private static native int prefill(long q, long ldq, int rows, int from, long k, long v, int heads, int d,
                                      long stride, int kvType, float scale, long out, int path, int threads);

    private static native int oneQuery(long q, long k, long v, int heads, int d, long stride, int len, float scale,
                                       long out, int path, int threads);
}
