package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One row of logits warped and drawn from by this project's kernel ({@code src/main/c/sampling_kernel.c}): the
 * temperature, top-k, top-p and repetition-penalty warpers in upstream's order, and the inverse-CDF draw, each one
 * call over the row on the caller's thread instead of about fifteen LibTorch operations (about a millisecond of every
 * T3 decode step).
 *
 * <p>Numerics: the division, the top-k mask, the penalty and the draw give LibTorch's bits; the top-p cut is decided
 * in double precision, so it agrees with LibTorch's float softmax except where a cumulative probability lies within
 * float rounding of {@code 1 - top_p}, and it is the same on every CPU. Memory: the kernel reads and writes the
 * caller's tensors; its scratch is freed before it returns.
 */
public final class LogitsKernel {
    /** The system property that, set to {@code false}, keeps T3's sampling on LibTorch's operations. */
    public static final String PROPERTY = "localai.tts.nativeSampling";
    private static final boolean AVAILABLE = NativeKernels.available();
    private static volatile boolean enabled = !"false".equalsIgnoreCase(System.getProperty(PROPERTY));

    private LogitsKernel() {}

    /** Whether T3's sampling runs here: the library is loaded and {@link #PROPERTY} does not turn it off. */
    public static boolean enabled() {
        return AVAILABLE && enabled;
    }

    /** Turns the kernel on or off for sampling from now on (for comparisons and tests); it must be available. */
    public static void use(boolean on) {
        if (on && !AVAILABLE) {
            throw new UnsupportedOperationException("native sampling needs the native kernels: "
                    + NativeKernels.unavailableReason());
        }
        enabled = on;
    }

    /**
     * Whether this kernel runs sampling now ({@link #enabled}) and can read {@code t}: one contiguous fp32 row on the
     * CPU (logits, their warped copy, probabilities).
     */
    public static boolean takes(Tensor t) {
        return enabled() && floats(t);
    }

    /** What {@link #warp} returns when the logits hold NaN or +inf: the caller uses LibTorch's operations. */
    public static final int NOT_FINITE = -1;

    /**
     * {@code out} = the warped {@code logits} (both fp32 (n), contiguous, on the CPU; they may be the same tensor).
     *
     * @param temperature   divides when &gt; 0 and != 1
     * @param topK          keeps the k largest (duplicates of the k-th included) when in (0, n)
     * @param topP          keeps the smallest set of largest values whose probability exceeds {@code topP} (and always
     *                      the largest) when &lt; 1
     * @param penalty       repetition penalty over the ids of {@code history} (int64 (h), ids in [0, n)) when != 1
     * @return how many outputs are finite (0: all -inf), or {@link #NOT_FINITE}
     */
    public static int warp(Tensor logits, double temperature, int topK, double topP, double penalty, Tensor history,
            Tensor out) {
        long n = logits.numel();
        if (!floats(logits) || !floats(out) || out.numel() != n || history.scalar_type().value != ScalarType.Long.value
                || !history.is_contiguous() || history.is_cuda() || history.dim() != 1) {
            throw new IllegalArgumentException("warp: contiguous fp32 CPU logits and output of one size and int64 ids");
        }
        float threshold = topP < 1.0 ? (float) (1.0 - topP) : -1f;
        int h = (int) history.numel();
        int r = warp(logits.data_ptr().address(), (int) n, (float) temperature, topK, threshold, (float) penalty,
                h == 0 ? 0 : history.data_ptr().address(), h, out.data_ptr().address());
        return switch (r) {
            case -2 -> throw new IllegalArgumentException("a history id is outside the " + n + " logits");
            case -3 -> throw new OutOfMemoryError("no scratch memory for " + n + " logits");
            default -> r;
        };
    }

    /**
     * The inverse-CDF draw from {@code probs} (fp32 (n), contiguous, CPU) with the uniform {@code u} in [0, 1): c =
     * the cumulative sum accumulated in double and stored in fp32, t = fl32(u * c[n-1]), the token = how many c[i] &lt;=
     * t, or the last token with a non-zero probability when that is n.
     */
    public static int draw(Tensor probs, float u) {
        if (!floats(probs)) {
            throw new IllegalArgumentException("draw: contiguous fp32 CPU probabilities");
        }
        int r = draw(probs.data_ptr().address(), (int) probs.numel(), u);
        if (r < 0) {
            throw new IllegalStateException("no token has a non-zero probability");
        }
        return r;
    }

    private static boolean floats(Tensor t) {
        return t.scalar_type().value == ScalarType.Float.value && t.is_contiguous() && !t.is_cuda() && t.dim() == 1;
    }

    private static native int warp(long logits, int n, float temperature, int topK, float topPThreshold, float penalty,
                                   long history, int h, long out);

    private static native int draw(long probs, int n, float u);
}
