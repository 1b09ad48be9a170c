package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The Snake activation {@code x + inv * sin(alpha x)^2} (HiFT's, with {@code inv = 1 / (alpha + 1e-9)}, one alpha per
 * channel) in one native pass ({@code src/main/c/snake_kernel.c}) over a (B, C, T) fp32 CPU tensor, contiguous or
 * channels-last (strides (C*T, 1, C), as {@link Conv#useChannelsLast} leaves HiFT's activations). LibTorch takes five
 * passes over the tensor (product, sine, square, scale, sum), 72 Snakes per 64-frame window of HiFT. The kernel keeps
 * LibTorch's operations and their order but for the sine, its own (within 2.4 ulp, against 3.5 for the SLEEF sine
 * LibTorch's vector paths call; libm's for |alpha x| above 8192 and non-finite values), so the same bits come out on
 * every CPU and thread count, and {@code SnakeKernelTest} bounds both it and LibTorch's against double precision. The
 * system property {@value #PROPERTY} set to {@code false} keeps LibTorch's operations. The output is a new tensor of
 * x's layout that the caller owns; nothing else is allocated.
 */
public final class SnakeKernel {
    /** The system property that, set to {@code false}, keeps LibTorch's five operations. */
    static final String PROPERTY = "localai.tts.nativeSnake";

    private static final boolean SUPPORTED = NativeKernels.available() && linked();
    private static volatile boolean on = SUPPORTED
            && !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());

    private SnakeKernel() {}

    static boolean supported() {
        return SUPPORTED;
    }

    /** Turns the kernel on or off from now on (for comparisons and tests); never on where it is not supported. */
    static void use(boolean enabled) {
        on = enabled && SUPPORTED;
    }

    /**
     * Whether the kernel takes these: enabled; x a (B, C, T) fp32 CPU tensor, contiguous or channels-last; alpha and
     * inv C contiguous fp32 CPU values each (any shape, e.g. (C, 1)).
     */
    public static boolean takes(Tensor x, Tensor alpha, Tensor inv) {
        if (!on || x.is_cuda() || x.dim() != 3 || x.scalar_type().value != ScalarType.Float.value) {
            return false;
        }
        long c = x.size(1);
        return layout(x) >= 0 && values(alpha, c) && values(inv, c);
    }

    private static boolean values(Tensor t, long c) {
        return t.scalar_type().value == ScalarType.Float.value && !t.is_cuda() && t.is_contiguous() && t.numel() == c;
    }

    /** 0 contiguous, 1 channels-last (strides (C*T, 1, C)), -1 neither. */
    private static int layout(Tensor x) {
        long c = x.size(1);
        long t = x.size(2);
        if (x.is_contiguous()) {
            return 0;
        }
        boolean batchDense = x.size(0) == 1 || x.stride(0) == c * t;
        boolean channelsDense = c == 1 || x.stride(1) == 1;
        boolean stepsDense = t == 1 || x.stride(2) == c;
        return batchDense && channelsDense && stepsDense ? 1 : -1;
    }

    /** {@code x + inv * sin(alpha x)^2} as {@link #takes} requires: a new tensor of x's shape and layout. */
    public static Tensor snake(Tensor x, Tensor alpha, Tensor inv) {
        int channelsLast = layout(x);
        Tensor out = torch.empty_like(x); // LibTorch keeps a dense tensor's strides
        if (out.stride(0) != x.stride(0) || out.stride(1) != x.stride(1) || out.stride(2) != x.stride(2)) {
            out.close();
            throw new IllegalStateException("empty_like changed the layout of a " + x.size(1) + "-channel tensor");
        }
        long n = x.numel();
        int threads = n < (1L << 15) ? 1 : torch.get_num_threads();
        int rc = snake(x.data_ptr().address(), x.size(0), x.size(1), x.size(2), channelsLast,
                alpha.data_ptr().address(), inv.data_ptr().address(), out.data_ptr().address(), threads);
        if (rc != 0) {
            out.close();
            throw new IllegalStateException("snake refused a tensor of " + x.size(0) + " x " + x.size(1) + " x "
                    + x.size(2) + ": " + rc);
        }
        return out;
    }

    private static boolean linked() {
        try {
            return snake(0, 0, 1, 1, 0, 0, 0, 0, 1) == 0; // nothing to do: checks the symbol only
        } catch (UnsatisfiedLinkError e) { // a library built before this kernel existed
            return false;
        }
    }

    private static native int snake(long x, long b, long c, long t, int channelsLast, long alpha, long inv, long out,
                                    int threads);
}
