package dev.localai.tts.core.nn;

import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Bidirectional multi-head attention over bf16 tensors on Intel AMX, by this project's kernel
 * ({@code src/main/c/amx_attention_kernel.c}): {@code softmax(q k^T * scale) v} per head over all frames of one
 * sequence, no mask, heads of 64, reading q, k and v as the rows the products before it wrote ((1, T, heads * 64))
 * and writing the rows the product after it reads, so no transposes are made around it.
 *
 * <p>Why: S3Gen's flow estimator runs 56 transformer blocks per pass, two passes per flow run; at the first streamed
 * block's 544 frames LibTorch's bf16 flash attention took 1.7 ms of a block's 3.2 ms on the Intel Xeon (AMX) VM
 * (docs/performance.md). Tile products do its multiply-adds at a small fraction of that.
 *
 * <p>Numerics: bf16 products with fp32 sums, an fp32 softmax, bf16 probabilities times the values, then each row
 * divided by its fp32 sum and rounded to bf16: the quantities LibTorch's bf16 flash attention computes, in another
 * order, so the two differ by rounding. A (head, query block) is computed by one thread in a fixed order: the result
 * does not depend on the thread count.
 *
 * <p>Where it runs: CPUs with AMX-TILE, AMX-BF16 and AVX512-BF16 whose kernel grants the tile state, unless
 * LibTorch's own dispatch is capped below AVX-512 ({@code ATEN_CPU_CAPABILITY=avx2} or {@code default}) or oneDNN's
 * below AMX ({@code ONEDNN_MAX_CPU_ISA} naming an ISA without AMX), so a capped run (the test suite's AVX2 execution,
 * an emulation of an older CPU) keeps LibTorch's attention. The system property {@value #PROPERTY}{@code =false}
 * turns it off. Memory: its packed keys, values and scratch are allocated and freed inside each call.
 */
public final class AmxAttention {
    /** The system property that, set to {@code false}, keeps LibTorch's attention. */
    public static final String PROPERTY = "localai.tts.amxAttention";
    /** The head size the kernel takes. */
    public static final int HEAD_DIM = 64;

    private static final boolean SUPPORTED = NativeKernels.available() && detectQuietly()
            && allowedBy(System.getenv("ATEN_CPU_CAPABILITY"), System.getenv("ONEDNN_MAX_CPU_ISA"));
    private static volatile boolean on = SUPPORTED
            && !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());

    private AmxAttention() {}

    /** Whether the kernel runs here (the CPU, the kernel's grant and the dispatch caps allow it). */
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
     * Whether LibTorch's and oneDNN's dispatch caps leave AMX in use (pure logic): not under
     * {@code ATEN_CPU_CAPABILITY} {@code avx2} or {@code default}, nor under an {@code ONEDNN_MAX_CPU_ISA} that names
     * an ISA without AMX ({@code ALL} and {@code DEFAULT} cap nothing).
     */
    static boolean allowedBy(String atenCapability, String onednnMaxIsa) {
        if (atenCapability != null) {
            String a = atenCapability.trim().toLowerCase(Locale.ROOT);
            if (a.equals("avx2") || a.equals("default")) {
                return false;
            }
        }
        if (onednnMaxIsa != null && !onednnMaxIsa.isBlank()) {
            String o = onednnMaxIsa.trim().toUpperCase(Locale.ROOT);
            return o.equals("ALL") || o.equals("DEFAULT") || o.contains("AMX");
        }
        return true;
    }

    /**
     * Whether {@link #attend} takes these tensors now: enabled, and q, k, v contiguous bf16 CPU tensors of the same
     * shape (1, T, heads * 64).
     */
    public static boolean takes(Tensor q, Tensor k, Tensor v, long heads) {
        return on && fits(q, heads) && fits(k, heads) && fits(v, heads) && q.size(1) == k.size(1)
                && q.size(1) == v.size(1);
    }

    private static boolean fits(Tensor t, long heads) {
        return t.scalar_type().value == ScalarType.BFloat16.value && !t.is_cuda() && t.dim() == 3 && t.size(0) == 1
                && t.size(2) == heads * HEAD_DIM && t.is_contiguous();
    }

    /**
     * {@code softmax(q k^T * scale) v} for each of {@code heads} heads of 64, over all frames: q, k, v (1, T,
     * heads * 64) as {@link #takes} requires, {@code scale} positive; returns a new (1, T, heads * 64) bf16 tensor (the caller owns it, or its
     * enclosing scope does).
     */
    public static Tensor attend(Tensor q, Tensor k, Tensor v, long heads, double scale) {
        if (!(scale > 0 && scale < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("AMX attention: scale must be positive and finite, got " + scale);
        }
        if (!takes(q, k, v, heads)) {
            throw new IllegalArgumentException("AMX attention: q " + q.sizes().vec() + ", k " + k.sizes().vec()
                    + ", v " + v.sizes().vec() + ", " + heads + " heads: contiguous bf16 CPU tensors (1, T, heads * "
                    + HEAD_DIM + ") needed" + (on ? "" : " (and the kernel, which is off or not supported here)"));
        }
        long t = q.size(1);
        long width = heads * HEAD_DIM;
        Tensor out = torch.empty_like(q);
        int threads = t * t * width < (1L << 16) ? 1 : torch.get_num_threads();
        int rc = attend(q.data_ptr().address(), k.data_ptr().address(), v.data_ptr().address(), width, (int) t,
                (int) heads, HEAD_DIM, (float) scale, out.data_ptr().address(), width, threads);
        if (rc != 0) {
            out.close();
            if (rc == -1) {
                throw new OutOfMemoryError("AMX attention: no memory for " + t + " frames");
            }
            throw new IllegalStateException("AMX attention refused " + t + " frames of " + heads + " heads: " + rc);
        }
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
