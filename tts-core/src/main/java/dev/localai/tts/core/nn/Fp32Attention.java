package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link Bf16Attention}'s bidirectional attention over fp32 tensors, with AVX-512 FMA
 * ({@code src/main/c/flow_attention_kernel.c}): {@code softmax(q k^T * scale) v} per head over all frames of one
 * sequence, heads of 64, q, k, v and the output as the rows the flow's products read and write ((1, T, heads * 64)),
 * no transposes around it.
 *
 * <p>Why: an fp32 flow is what a CPU runs where bf16 measured slower (the weight-type probe: the Zen 4 EPYC, CPUs
 * without bf16); there LibTorch's fp32 flash attention was the largest single part of an estimator block
 * (docs/performance.md).
 *
 * <p>Numerics: per query block the scores by fp32 fused multiply-adds over the 64 dimensions in order, an fp32
 * softmax (an exp within about 1.2e-7, the sum in sixteen lanes then a fixed tree), p v by fused multiply-adds over
 * the keys in order, each row divided by its sum: the same quantities as LibTorch's, rounded differently
 * ({@code Fp32AttentionTest} bounds both against double precision). One (head, query block) per thread at a time:
 * the result does not depend on the thread count.
 *
 * <p>Where it runs: CPUs with AVX-512, unless {@code ATEN_CPU_CAPABILITY} caps LibTorch below it ({@code avx2},
 * {@code default}: an emulation of an older CPU keeps LibTorch's attention); the system property {@value #PROPERTY}
 * set to {@code false} turns it off. Memory: packed keys and scratch are allocated and freed inside each call; the
 * output is a new tensor its caller owns.
 */
public final class Fp32Attention {
    /** The system property that, set to {@code false}, keeps LibTorch's attention for fp32. */
    public static final String PROPERTY = "localai.tts.fp32Attention";

    private static final boolean SUPPORTED = NativeKernels.available() && detectQuietly()
            && allowedBy(System.getenv("ATEN_CPU_CAPABILITY"));
    private static volatile boolean on = SUPPORTED
            && !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());

    private Fp32Attention() {}

    /** Whether the kernel runs here (AVX-512 and no dispatch cap below it). */
    public static boolean supported() {
        return SUPPORTED;
    }

    /** Whether attention that {@link #takes} its tensors runs here now ({@link #PROPERTY}, {@link #use}). */
    public static boolean enabled() {
        return on;
    }

    /** Turns the kernel on or off from now on (for comparisons and tests); never on where it is not supported. */
    public static void use(boolean enabled) {
        on = enabled && SUPPORTED;
    }

    /** Whether LibTorch's dispatch cap leaves AVX-512 in use (pure logic). */
    static boolean allowedBy(String atenCapability) {
        return !NativeKernels.capsBelowAvx512(atenCapability);
    }

    /**
     * Whether {@link #attend} takes these tensors now: enabled, and q, k, v contiguous fp32 CPU tensors of the same
     * shape (1, T, heads * 64).
     */
    public static boolean takes(Tensor q, Tensor k, Tensor v, long heads) {
        return on && Bf16Attention.rowsOf(ScalarType.Float, heads, q, k, v);
    }

    /**
     * {@code softmax(q k^T * scale) v} for each of {@code heads} heads of 64, over all frames: q, k, v (1, T,
     * heads * 64) as {@link #takes} requires, {@code scale} positive; returns a new (1, T, heads * 64) fp32 tensor
     * (the caller owns it, or its enclosing scope does).
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, long heads, double scale) {
        if (!(scale > 0 && scale < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("fp32 attention: scale must be positive and finite, got " + scale);
        }
        if (!takes(q, k, v, heads)) {
            throw new IllegalArgumentException("fp32 attention: q " + q.sizes().vec() + ", k " + k.sizes().vec()
                    + ", v " + v.sizes().vec() + ", " + heads + " heads: contiguous fp32 CPU tensors (1, T, heads * "
                    + Bf16Attention.HEAD_DIM + ") needed"
                    + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        return run(q, q.data_ptr().address(), k.data_ptr().address(), v.data_ptr().address(),
                heads * Bf16Attention.HEAD_DIM, heads, scale);
    }

    /** Whether {@link #attendPacked} takes {@code qkv} now: enabled, a contiguous fp32 CPU (1, T, 3 * heads * 64). */
    public static boolean takesPacked(Tensor qkv, long heads) {
        return on && Bf16Attention.packedRows(ScalarType.Float, heads, qkv);
    }

    /**
     * {@link #attend} over q, k and v packed side by side in each row of {@code qkv} (1, T, 3 * heads * 64), read in
     * place; returns a new (1, T, heads * 64) fp32 tensor.
     */
    public static Tensor attendPacked(Tensor qkv, long heads, double scale) {
        if (!(scale > 0 && scale < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("fp32 attention: scale must be positive and finite, got " + scale);
        }
        if (!takesPacked(qkv, heads)) {
            throw new IllegalArgumentException("fp32 attention: qkv " + qkv.sizes().vec() + ", " + heads
                    + " heads: a contiguous fp32 CPU tensor (1, T, 3 * heads * " + Bf16Attention.HEAD_DIM + ") needed"
                    + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        long width = heads * Bf16Attention.HEAD_DIM;
        long base = qkv.data_ptr().address();
        return run(qkv, base, base + 4 * width, base + 8 * width, 3 * width, heads, scale);
    }

    private static Tensor run(Tensor like, long q, long k, long v, long ld, long heads, double scale) {
        long t = like.size(1);
        long width = heads * Bf16Attention.HEAD_DIM;
        Tensor out = torch.empty(new long[] {1, t, width}, like.options(), null);
        int threads = t * t * width < (1L << 16) ? 1 : torch.get_num_threads();
        int rc = attend(q, k, v, ld, (int) t, (int) heads, Bf16Attention.HEAD_DIM, (float) scale,
                out.data_ptr().address(), width, threads);
        Bf16Attention.check(rc, out, "fp32 attention", t, heads);
        return out;
    }

    private static boolean detectQuietly() {
        try {
            return detect() == 1;
        } catch (UnsatisfiedLinkError e) { // a library built before this kernel existed
            return false;
        }
    }

    private static native int detect();

    private static native int attend(long q, long k, long v, long ld, int t, int heads, int d, float scale, long out,
                                     long ldo, int threads);
}
