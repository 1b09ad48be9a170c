package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link Bf16Attention}'s bidirectional attention over fp32 tensors, with AVX-512, AVX2 FMA, AVX or SSE4.1
 * ({@code src/main/c/flow_attention_kernel.c}): {@code softmax(q k^T * scale) v} per head over all frames of one
 * sequence, heads of 64, q, k, v and the output as the rows the flow's products read and write ((1, T, heads * 64)),
 * no transposes around it. {@link #attendRelative} adds Transformer-XL relative positions (the S3Gen encoder's
 * conformer attention).
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
 * <p>Where it runs: CPUs with AVX-512 ({@code avx512}), AVX2 and FMA ({@code avx2}: most desktop CPUs, AMD Zen 1-3
 * and Intel's without AVX-512, whose flow is fp32), AVX alone ({@code avx}: the Xeon E5 v1/v2 of many home labs;
 * each fused multiply-add a multiply and an add) or SSE4.1 ({@code sse41}: CPUs without AVX, the Celeron, Pentium
 * Silver and Atom chips of small home servers; the AVX path's arithmetic on four lanes), following {@code
 * ATEN_CPU_CAPABILITY} as LibTorch's kernels do ({@code avx2} caps it at the AVX2 path, {@code default} at the AVX
 * path, and {@code ONEDNN_MAX_CPU_ISA} at an SSE level at the SSE4.1 path, as on a CPU without AVX); the system
 * property {@value #PROPERTY} set to {@code false} turns it off. The AVX-512 and AVX2 paths compute every score and
 * every output sum by the same fused multiply-adds in the same order; the softmax's sum runs in eight lanes instead
 * of sixteen and its exp builds 2^n differently far below 1e-38, so they differ by rounding; the AVX path does what
 * the AVX2 one does with each product rounded before its add, and the SSE4.1 path what the AVX one does with the
 * softmax's sum in four lanes. Memory: packed keys and scratch are allocated and freed inside each call; the output
 * is a new tensor its caller owns.
 */
public final class Fp32Attention {
    /** The system property that, set to {@code false}, keeps LibTorch's attention for fp32. */
    public static final String PROPERTY = "localai.tts.fp32Attention";

    /** Path codes on the C side. */
    static final int SSE41 = 1;
    static final int AVX = 2;
    static final int AVX2 = 3;
    static final int AVX512 = 4;
    /** The best path this CPU runs (0: none). */
    private static final int CPU = NativeKernels.available() ? detectQuietly() : 0;
    /** The path in use: the CPU's best under LibTorch's dispatch cap, as LibTorch's own kernels follow it. */
    private static final int PATH = pathUnder(CPU, System.getenv("ATEN_CPU_CAPABILITY"),
            System.getenv("ONEDNN_MAX_CPU_ISA"));
    private static final boolean SUPPORTED = PATH > 0;
    private static volatile boolean on = SUPPORTED
            && !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());

    private Fp32Attention() {}

    /** Whether the kernel runs here (AVX-512, AVX2 and FMA, AVX or SSE4.1, under LibTorch's dispatch cap). */
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

    /**
     * The path in use, {@code avx512}, {@code avx2}, {@code avx} or {@code sse41}; null where the kernel does not run.
     */
    public static String path() {
        return switch (PATH) {
            case AVX512 -> "avx512";
            case AVX2 -> "avx2";
            case AVX -> "avx";
            case SSE41 -> "sse41";
            default -> null;
        };
    }

    /** Whether {@code path} runs on this CPU (the tests run every path that does). */
    static boolean runs(int path) {
        return path >= SSE41 && path <= AVX512 && path <= CPU;
    }

    /**
     * The path under LibTorch's dispatch cap ({@link NativeKernels#capped}, pure logic): {@code avx2} caps it at the
     * AVX2 path, {@code default} (LibTorch's kernels for a CPU without AVX2) at the AVX path, below which a CPU without
     * AVX runs its best (SSE4.1, or none: this kernel has no plain-C path); anything else leaves the CPU's best.
     */
    static int pathUnder(int cpu, String atenCapability) {
        return NativeKernels.capped(cpu, atenCapability, AVX2, AVX);
    }

    /**
     * {@link #pathUnder(int, String)}, at most the SSE4.1 path where oneDNN is held to an SSE level ({@code
     * ONEDNN_MAX_CPU_ISA} {@code SSE41}): LibTorch's cap has no level below {@code default}, so oneDNN's is what says
     * a CPU without AVX is meant (the test suite's and cpu-check's emulation of one).
     */
    static int pathUnder(int cpu, String atenCapability, String onednnIsa) {
        boolean belowAvx = onednnIsa != null && onednnIsa.trim().toUpperCase(java.util.Locale.ROOT).startsWith("SSE");
        int path = pathUnder(cpu, atenCapability);
        return belowAvx ? Math.min(path, SSE41) : path;
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
        Bf16Attention.requireScale("fp32", scale);
        if (!takes(q, k, v, heads)) {
            throw new IllegalArgumentException("fp32 attention: q " + q.sizes().vec() + ", k " + k.sizes().vec()
                    + ", v " + v.sizes().vec() + ", " + heads + " heads: contiguous fp32 CPU tensors (1, T, heads * "
                    + Bf16Attention.HEAD_DIM + ") needed"
                    + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        return run(PATH, q, q.data_ptr().address(), k.data_ptr().address(), v.data_ptr().address(),
                heads * Bf16Attention.HEAD_DIM, heads, scale);
    }

    /**
     * {@link #attend} on {@code path} (one that {@link #runs} here, whether or not it is the one in use), for the tests
     * that compare the paths; the tensors as {@link #takes} requires, whether or not the kernel is on.
     */
    static Tensor attendOn(int path, Tensor q, Tensor k, Tensor v, long heads, double scale) {
        if (!runs(path) || !Bf16Attention.rowsOf(ScalarType.Float, heads, q, k, v)) {
            throw new IllegalArgumentException("fp32 attention: path " + path + " does not run here, or the tensors"
                    + " are not contiguous fp32 CPU (1, T, heads * 64)");
        }
        return run(path, q, q.data_ptr().address(), k.data_ptr().address(), v.data_ptr().address(),
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
        Bf16Attention.requireScale("fp32", scale);
        if (!takesPacked(qkv, heads)) {
            throw new IllegalArgumentException("fp32 attention: qkv " + qkv.sizes().vec() + ", " + heads
                    + " heads: a contiguous fp32 CPU tensor (1, T, 3 * heads * " + Bf16Attention.HEAD_DIM + ") needed"
                    + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        long width = heads * Bf16Attention.HEAD_DIM;
        long base = qkv.data_ptr().address();
        return run(PATH, qkv, base, base + 4 * width, base + 8 * width, 3 * width, heads, scale);
    }

    /** Whether {@link #attendRelative} takes these tensors now: as {@link Bf16Attention#takesRelative}, in fp32. */
    public static boolean takesRelative(Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long heads) {
        return on && Bf16Attention.relativeRowsOf(ScalarType.Float, heads, qu, qv, k, v, p);
    }

    /**
     * {@link Bf16Attention#attendRelative} over fp32 tensors: the S3Gen encoder's conformer attention, {@code
     * softmax((qu k^T + rel_shift(qv p^T)) * scale) v} per head, each score and position term by fused multiply-adds
     * over the 64 dimensions in order, their sum in fp32. Returns a new (1, T, heads * 64) fp32 tensor.
     */
    public static Tensor attendRelative(Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long heads, double scale) {
        if (!on) {
            throw new IllegalArgumentException("fp32 relative attention: the kernel is off or not supported here");
        }
        return relativeOn(PATH, qu, qv, k, v, p, heads, scale);
    }

    /** {@link #attendRelative} on {@code path} (one that {@link #runs} here), for the tests that compare the paths. */
    static Tensor relativeOn(int path, Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long heads, double scale) {
        Bf16Attention.requireScale("fp32", scale);
        if (!runs(path) || !Bf16Attention.relativeRowsOf(ScalarType.Float, heads, qu, qv, k, v, p)) {
            throw new IllegalArgumentException(Bf16Attention.relativeShapes("fp32", qu, qv, k, v, p, heads)
                    + ", on a path that runs here");
        }
        long t = qu.size(1);
        long width = heads * Bf16Attention.HEAD_DIM;
        Tensor out = torch.empty(new long[] {1, t, width}, qu.options(), null);
        int threads = Bf16Attention.threadsFor(t, width);
        int rc = attendRelative(qu.data_ptr().address(), qv.data_ptr().address(), k.data_ptr().address(),
                v.data_ptr().address(), width, p.data_ptr().address(), width, (int) t, (int) heads,
                Bf16Attention.HEAD_DIM, (float) scale, out.data_ptr().address(), width, path, threads);
        Bf16Attention.check(rc, out, "fp32 relative attention", t, heads);
        return out;
    }

    private static Tensor run(int path, Tensor like, long q, long k, long v, long ld, long heads, double scale) {
        long t = like.size(1);
        long width = heads * Bf16Attention.HEAD_DIM;
        Tensor out = torch.empty(new long[] {1, t, width}, like.options(), null);
        int threads = Bf16Attention.threadsFor(t, width);
        int rc = attend(q, k, v, ld, (int) t, (int) heads, Bf16Attention.HEAD_DIM, (float) scale,
                out.data_ptr().address(), width, path, threads);
        Bf16Attention.check(rc, out, "fp32 attention", t, heads);
        return out;
    }

    private static int detectQuietly() {
        try {
            return detect();
        } catch (UnsatisfiedLinkError e) { // a library built before this kernel existed
            return 0;
        }
    }

    private static native int detect();

    private static native int attend(long q, long k, long v, long ld, int t, int heads, int d, float scale, long out,
                                     long ldo, int path, int threads);

    private static native int attendRelative(long qu, long qv, long k, long v, long ld, long p, long ldp, int t,
                                             int heads, int d, float scale, long out, long ldo, int path, int threads);
}
