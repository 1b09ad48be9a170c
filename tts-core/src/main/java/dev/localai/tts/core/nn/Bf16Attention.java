package dev.localai.tts.core.nn;

import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Bidirectional multi-head attention over bf16 tensors on the CPU by this project's kernel
 * ({@code src/main/c/flow_attention_kernel.c}): {@code softmax(q k^T * scale) v} per head over all frames of one
 * sequence, no mask, heads of 64, reading q, k and v as the rows the products before it wrote ((1, T, heads * 64))
 * and writing the rows the product after it reads, so no transposes are made around it. Its block products run on
 * Intel AMX tiles ({@code amx}) or on AVX512-BF16 dot products ({@code avx512-bf16}: AMD Zen 4, Intel without AMX).
 * {@link #attendRelative} is the same attention with Transformer-XL relative positions, the S3Gen encoder's conformer
 * attention (on the AVX512-BF16 path everywhere).
 *
 * <p>Why: S3Gen's flow estimator runs 56 transformer blocks per pass, two passes per flow run. At the first streamed
 * block's 544 frames LibTorch's bf16 flash attention took 1.7 ms of a block's 3.2 ms on the Intel Xeon (AMX) VM, and
 * without AMX (the same VM under {@code ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16}, as on a Zen 4) 163-170 ms, 50 times the
 * rest of the block: the reason a bf16 flow lost to fp32 on the Zen 4 EPYC (docs/performance.md).
 *
 * <p>Numerics: bf16 products with fp32 sums, an fp32 softmax, bf16 probabilities times the values, then each row
 * divided by its fp32 sum and rounded to bf16: the quantities LibTorch's bf16 flash attention computes, in another
 * order, so the two differ by rounding; so do the two paths. A (head, query block) is computed by one thread in a
 * fixed order: the result does not depend on the thread count.
 *
 * <p>Where it runs: CPUs with AVX512-BF16 (and AMX-TILE, AMX-BF16 with the kernel's grant of the tile state for the
 * {@code amx} path), unless LibTorch's own dispatch is capped below AVX-512 ({@code ATEN_CPU_CAPABILITY=avx2} or
 * {@code default}) or oneDNN's below the path's ISA ({@code ONEDNN_MAX_CPU_ISA} naming an ISA without AMX, or without
 * bf16), so a capped run (the test suite's AVX2 execution, an emulation of an older CPU) keeps LibTorch's attention or
 * takes the path the cap allows. The system property {@value #PROPERTY} set to {@code false} turns it off, to
 * {@code avx512-bf16} keeps it off the tiles. Whether the flow runs in bf16 at all stays the weight-type probe's
 * measured choice, and the probe's flow block attends with this kernel. Memory: its packed keys, values and scratch
 * are allocated and freed inside each call; the output is a new tensor its caller owns.
 */
public final class Bf16Attention {
    /** The system property: {@code false} keeps LibTorch's attention, {@code avx512-bf16} keeps the kernel off AMX. */
    public static final String PROPERTY = "localai.tts.bf16Attention";
    /** The head size the kernel takes. */
    public static final int HEAD_DIM = 64;
    /** Path codes on the C side. */
    static final int AVX512_BF16 = 1;
    static final int AMX = 2;

    /** The paths this CPU runs and the caps allow, one bit per code. */
    private static final int RUNS = NativeKernels.available()
            ? allowedPaths(detectQuietly(), System.getenv("ATEN_CPU_CAPABILITY"), System.getenv("ONEDNN_MAX_CPU_ISA"))
            : 0;
    private static final int BEST = chosen(RUNS, System.getProperty(PROPERTY));
    private static volatile boolean on = BEST > 0;

    private Bf16Attention() {}

    /** Whether the kernel runs here (the CPU, the kernel's grant, the dispatch caps and {@value #PROPERTY}). */
    public static boolean supported() {
        return BEST > 0;
    }

    /** Whether attention that {@link #takes} its tensors runs here now ({@link #PROPERTY}, {@link #use}). */
    public static boolean enabled() {
        return on;
    }

    /** Turns the kernel on or off from now on (for comparisons and tests); never on where it is not supported. */
    public static void use(boolean enabled) {
        on = enabled && BEST > 0;
    }

    /** The path in use: {@code amx} or {@code avx512-bf16}; null where the kernel does not run. */
    public static String path() {
        return BEST == AMX ? "amx" : BEST == AVX512_BF16 ? "avx512-bf16" : null;
    }

    /** Whether {@code path} runs here (tests compare the paths where both do). */
    static boolean runs(int path) {
        return (RUNS & (1 << path)) != 0;
    }

    /**
     * The paths the CPU's ({@code detected}: bit 1 AVX512-BF16, bit 2 AMX) and the dispatch caps allow (pure logic):
     * none under {@code ATEN_CPU_CAPABILITY} {@code avx2} or {@code default}; under an {@code ONEDNN_MAX_CPU_ISA}
     * other than {@code ALL} and {@code DEFAULT}, AMX only where it names an AMX ISA and AVX512-BF16 only where it
     * names an ISA with bf16 (AMX, BF16, FP16 or AVX10 in its name).
     */
    static int allowedPaths(int detected, String atenCapability, String onednnMaxIsa) {
        if (NativeKernels.capsBelowAvx512(atenCapability)) {
            return 0;
        }
        int allowed = detected & ((1 << AVX512_BF16) | (1 << AMX));
        if (onednnMaxIsa != null && !onednnMaxIsa.isBlank()) {
            String o = onednnMaxIsa.trim().toUpperCase(Locale.ROOT);
            if (!o.equals("ALL") && !o.equals("DEFAULT")) {
                if (!o.contains("AMX")) {
                    allowed &= ~(1 << AMX);
                }
                if (!(o.contains("AMX") || o.contains("BF16") || o.contains("FP16") || o.contains("AVX10"))) {
                    allowed &= ~(1 << AVX512_BF16);
                }
            }
        }
        return allowed;
    }

    /** The path to run from the allowed ones and {@value #PROPERTY} (pure logic): 0 for none. */
    static int chosen(int allowed, String property) {
        String p = property == null ? "" : property.trim().toLowerCase(Locale.ROOT);
        if (p.equals("false")) {
            return 0;
        }
        if ((allowed & (1 << AMX)) != 0 && !p.equals("avx512-bf16")) {
            return AMX;
        }
        return (allowed & (1 << AVX512_BF16)) != 0 ? AVX512_BF16 : 0;
    }

    /**
     * Whether {@link #attend} takes these tensors now: enabled, and q, k, v contiguous bf16 CPU tensors of the same
     * shape (1, T, heads * 64).
     */
    public static boolean takes(Tensor q, Tensor k, Tensor v, long heads) {
        return on && rowsOf(ScalarType.BFloat16, heads, q, k, v);
    }

    /**
     * Whether q, k, v are contiguous CPU tensors of {@code type} and the same shape (1, T, heads * 64): what both
     * attention kernels read (this one and {@link Fp32Attention}).
     */
    static boolean rowsOf(ScalarType type, long heads, Tensor q, Tensor k, Tensor v) {
        return fits(q, type, heads) && fits(k, type, heads) && fits(v, type, heads) && q.size(1) == k.size(1)
                && q.size(1) == v.size(1);
    }

    private static boolean fits(Tensor t, ScalarType type, long heads) {
        return t.scalar_type().value == type.value && !t.is_cuda() && t.dim() == 3 && t.size(0) == 1
                && t.size(2) == heads * HEAD_DIM && t.is_contiguous();
    }

    /**
     * The kernels' return code: 0 passes; otherwise {@code out} is freed and the failure thrown ({@code what}: the
     * kernel's name in the message).
     */
    static void check(int rc, Tensor out, String what, long t, long heads) {
        if (rc == 0) {
            return;
        }
        out.close();
        if (rc == -1) {
            throw new OutOfMemoryError(what + ": no memory for " + t + " frames");
        }
        throw new IllegalStateException(what + " refused " + t + " frames of " + heads + " heads: " + rc);
    }

    /**
     * {@code softmax(q k^T * scale) v} for each of {@code heads} heads of 64, over all frames: q, k, v (1, T,
     * heads * 64) as {@link #takes} requires, {@code scale} positive; returns a new (1, T, heads * 64) bf16 tensor
     * (the caller owns it, or its enclosing scope does).
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, long heads, double scale) {
        if (!takes(q, k, v, heads)) {
            throw new IllegalArgumentException("bf16 attention: q " + q.sizes().vec() + ", k " + k.sizes().vec()
                    + ", v " + v.sizes().vec() + ", " + heads + " heads: contiguous bf16 CPU tensors (1, T, heads * "
                    + HEAD_DIM + ") needed" + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        return attendOn(BEST, q, k, v, heads, scale);
    }

    /** {@link #attend} on a given path (one that {@link #runs}); the shapes as {@link #takes} requires. */
    static Tensor attendOn(int path, Tensor q, Tensor k, Tensor v, long heads, double scale) {
        return run(path, q, q.data_ptr().address(), k.data_ptr().address(), v.data_ptr().address(), heads * HEAD_DIM,
                heads, scale);
    }

    /**
     * Whether {@link #attendPacked} takes {@code qkv} now: enabled, and a contiguous bf16 CPU tensor (1, T,
     * 3 * heads * 64) holding each frame's q, k and v side by side (one product over the three weights stacked).
     */
    public static boolean takesPacked(Tensor qkv, long heads) {
        return on && packedRows(ScalarType.BFloat16, heads, qkv);
    }

    /** Whether {@code qkv} is a contiguous CPU tensor of {@code type}, (1, T, 3 * heads * 64). */
    static boolean packedRows(ScalarType type, long heads, Tensor qkv) {
        return qkv.scalar_type().value == type.value && !qkv.is_cuda() && qkv.dim() == 3 && qkv.size(0) == 1
                && qkv.size(2) == 3 * heads * HEAD_DIM && qkv.is_contiguous();
    }

    /**
     * {@link #attend} over q, k and v packed in one tensor (1, T, 3 * heads * 64) as {@link #takesPacked} requires:
     * the kernel reads them in place, rows 3 * heads * 64 apart. Returns a new (1, T, heads * 64) bf16 tensor.
     */
    public static Tensor attendPacked(Tensor qkv, long heads, double scale) {
        if (!takesPacked(qkv, heads)) {
            throw new IllegalArgumentException("bf16 attention: qkv " + qkv.sizes().vec() + ", " + heads
                    + " heads: a contiguous bf16 CPU tensor (1, T, 3 * heads * " + HEAD_DIM + ") needed"
                    + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        long width = heads * HEAD_DIM;
        long base = qkv.data_ptr().address();
        return run(BEST, qkv, base, base + 2 * width, base + 4 * width, 3 * width, heads, scale);
    }

    /**
     * Whether {@link #attendRelative} takes these tensors now: enabled, qu, qv, k, v contiguous bf16 CPU tensors of the
     * same shape (1, T, heads * 64), T at least 1, and p (1, 2T - 1, heads * 64).
     */
    public static boolean takesRelative(Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long heads) {
        return on && relativeRowsOf(ScalarType.BFloat16, heads, qu, qv, k, v, p);
    }

    /** Whether qu, qv, k, v are rows as {@link #rowsOf} requires, T at least 1, and p (1, 2T - 1, heads * 64). */
    static boolean relativeRowsOf(ScalarType type, long heads, Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p) {
        return rowsOf(type, heads, qu, k, v) && rowsOf(type, heads, qv, k, v) && qu.size(1) >= 1 && fits(p, type, heads)
                && p.size(1) == 2 * qu.size(1) - 1;
    }

    /**
     * Attention with Transformer-XL relative positions, the S3Gen encoder's conformer attention (ESPnet's
     * {@code RelPositionMultiHeadedAttention}): per head {@code softmax((qu k^T + rel_shift(qv p^T)) * scale) v}, where
     * {@code rel_shift} pairs query i and key j with position row {@code T - 1 - i + j}. qu and qv are the queries plus
     * the two position biases, p the 2T - 1 projected relative positions, as {@link #takesRelative} requires. The
     * scores and the position terms are summed in fp32 before the softmax (LibTorch's bf16 path rounds each to bf16).
     * Runs on the AVX512-BF16 path (on AMX CPUs too). Returns a new (1, T, heads * 64) bf16 tensor.
     */
    public static Tensor attendRelative(Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long heads, double scale) {
        if (!takesRelative(qu, qv, k, v, p, heads)) {
            throw new IllegalArgumentException(relativeShapes("bf16", qu, qv, k, v, p, heads)
                    + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        requireScale("bf16", scale);
        long t = qu.size(1);
        long width = heads * HEAD_DIM;
        Tensor out = torch.empty(new long[] {1, t, width}, qu.options(), null);
        int threads = threadsFor(t, width);
        int rc = attendRelative(qu.data_ptr().address(), qv.data_ptr().address(), k.data_ptr().address(),
                v.data_ptr().address(), width, p.data_ptr().address(), width, (int) t, (int) heads, HEAD_DIM,
                (float) scale, out.data_ptr().address(), width, BEST, threads);
        check(rc, out, "bf16 relative attention", t, heads);
        return out;
    }

    /** Throws unless the attention's scale is positive and finite ({@code type}: bf16 or fp32, for the message). */
    static void requireScale(String type, double scale) {
        if (!(scale > 0 && scale < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException(type + " attention: scale must be positive and finite, got " + scale);
        }
    }

    /** What a relative attention over {@code type} tensors was given and what it needs, for its refusal. */
    static String relativeShapes(String type, Tensor qu, Tensor qv, Tensor k, Tensor v, Tensor p, long heads) {
        return type + " relative attention: qu " + qu.sizes().vec() + ", qv " + qv.sizes().vec() + ", k "
                + k.sizes().vec() + ", v " + v.sizes().vec() + ", p " + p.sizes().vec() + ", " + heads
                + " heads: contiguous " + type + " CPU tensors (1, T, heads * " + HEAD_DIM + "), p (1, 2T - 1, heads * "
                + HEAD_DIM + ") needed";
    }

    /** The threads an attention over t frames of {@code width} values takes: one for a small one, else LibTorch's. */
    static int threadsFor(long t, long width) {
        return t * t * width < (1L << 16) ? 1 : torch.get_num_threads();
    }

    /** Runs the kernel over rows ld elements apart; the output (1, T, heads * 64) is like {@code like}'s type. */
    private static Tensor run(int path, Tensor like, long q, long k, long v, long ld, long heads, double scale) {
        requireScale("bf16", scale);
        if (!runs(path)) {
            throw new IllegalStateException("bf16 attention: path " + path + " does not run here");
        }
        long t = like.size(1);
        long width = heads * HEAD_DIM;
        Tensor out = torch.empty(new long[] {1, t, width}, like.options(), null);
        int threads = threadsFor(t, width);
        int rc = attend(q, k, v, ld, (int) t, (int) heads, HEAD_DIM, (float) scale, out.data_ptr().address(), width,
                path, threads);
        check(rc, out, "bf16 attention", t, heads);
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
