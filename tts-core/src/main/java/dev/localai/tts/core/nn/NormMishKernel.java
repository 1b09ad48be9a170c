package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * {@link LayerNorm#forwardMish}'s native kernel ({@code src/main/c/row_norm_kernel.c}): layer norm over the last
 * dimension, Mish, and an optional per-channel add, in one pass over each row, fp32 or bf16. LibTorch takes three
 * passes (norm, mish, add), each rounding a bf16 result, and its bf16 mish alone cost as much as a 256-channel
 * causal convolution's product over the same rows (docs/performance.md, "Ninth round"). The same bits on every CPU
 * and thread count (plain IEEE operations, rows independent); LibTorch's rounding differs (bf16: one rounding here
 * against two), so {@code NormMishKernelTest} bounds both against double precision. The system property
 * {@value #PROPERTY} set to {@code false} keeps LibTorch's operations. Scratch is allocated and freed inside each call;
 * the output is a new tensor its caller owns.
 */
final class NormMishKernel {
    /** The system property that, set to {@code false}, keeps LibTorch's three operations. */
    static final String PROPERTY = "localai.tts.nativeNormMish";

    private static final boolean SUPPORTED = NativeKernels.available() && linked();
    private static volatile boolean on = SUPPORTED
            && !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());

    private NormMishKernel() {}

    static boolean supported() {
        return SUPPORTED;
    }

    /** Turns the kernel on or off from now on (for comparisons and tests); never on where it is not supported. */
    static void use(boolean enabled) {
        on = enabled && SUPPORTED;
    }

    /**
     * Whether the kernel takes these: enabled; x, weight, bias (and add) contiguous CPU tensors of one type, fp32 or
     * bf16; x's last dimension the weight's length; add null or that many values (one row of them).
     */
    static boolean takes(Tensor x, Tensor weight, Tensor bias, Tensor add) {
        if (!on || x.is_cuda() || x.dim() < 1 || !x.is_contiguous()) {
            return false;
        }
        int type = x.scalar_type().value;
        if (type != ScalarType.Float.value && type != ScalarType.BFloat16.value) {
            return false;
        }
        long c = x.size(-1);
        return same(weight, type, c) && same(bias, type, c) && (add == null || same(add, type, c));
    }

    private static boolean same(Tensor t, int type, long c) {
        return t.scalar_type().value == type && !t.is_cuda() && t.is_contiguous() && t.numel() == c;
    }

    /** mish(layer_norm(x)) (+ add) as {@link #takes} requires; a new tensor of x's shape and type. */
    static Tensor normMish(Tensor x, Tensor weight, Tensor bias, double eps, Tensor add) {
        long c = x.size(-1);
        long rows = c == 0 ? 0 : x.numel() / c;
        Tensor out = torch.empty_like(x);
        int threads = rows * c < (1L << 15) ? 1 : torch.get_num_threads();
        int rc = normMish(x.data_ptr().address(), rows, (int) c, weight.data_ptr().address(),
                bias.data_ptr().address(), (float) eps, add == null ? 0 : add.data_ptr().address(),
                out.data_ptr().address(), x.scalar_type().value == ScalarType.BFloat16.value ? 1 : 0, threads);
        if (rc != 0) {
            out.close();
            if (rc == -1) {
                throw new OutOfMemoryError("layer norm + mish: no memory for rows of " + c);
            }
            throw new IllegalStateException("layer norm + mish refused " + rows + " rows of " + c + ": " + rc);
        }
        return out;
    }

    private static boolean linked() {
        try {
            return normMish(0, 0, 1, 0, 0, 1e-5f, 0, 0, 0, 1) == 0; // no rows: checks the symbol only
        } catch (UnsatisfiedLinkError e) { // a library built before this kernel existed
            return false;
        }
    }

    private static native int normMish(long x, long rows, int c, long gamma, long beta, float eps, long add, long out,
                                       int bf16, int threads);
}
