package dev.localai.tts.core.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A linear layer's (out, in) weight kept in fp16 and multiplied by this project's kernel
 * ({@code src/main/c/half_kernel.c}): {@code y = W x + b} with the weight converted exactly to fp32 and the sums in
 * fp32. For a matrix a decode step reads whole for one vector, where the bytes read are the cost: T3's speech head
 * (6563 x 1024: 27 MB in fp32) beside the int8 blocks.
 *
 * <p>Numerics: fp16 rounds each weight to 11 significant bits (2^-12 relative at most; weights below 6e-5 in
 * magnitude keep an absolute error under 3e-8), far below int8's rounding; the sums are the same bits on every
 * instruction set and every split over threads (16 lanes in a fixed order, no fused multiply-add), and a row of a
 * batch gets the bits it gets alone. Memory: the fp16 copy belongs to the owner it was made with (a model's
 * {@link Weights}); the kernel reads the caller's tensors and allocates nothing.
 */
public final class HalfMatrix {
    /** The CPU's path under LibTorch's dispatch cap: the attention kernel's codes (its AVX2 path needs F16C too). */
    private static final int PATH = CpuAttention.pathCode();
    /** Products with fewer multiply-adds than this run on one thread. */
    private static final long MIN_SPLIT_WORK = 1L << 16;

    private final Tensor weight;
    private final long out;
    private final long in;

    private HalfMatrix(Tensor weight) {
        this.weight = weight;
        this.out = weight.size(0);
        this.in = weight.size(1);
    }

    /** Whether the kernel is loaded here. */
    public static boolean available() {
        return PATH >= 0;
    }

    /** An fp16 copy of {@code w} (out, in) fp32 CPU, kept by {@code owner}; {@code w} is left to the caller. */
    public static HalfMatrix of(Tensor w, ParamSource owner) {
        if (!available()) {
            throw new UnsupportedOperationException("the fp16 product needs the native kernels: "
                    + NativeKernels.unavailableReason());
        }
        if (w.dim() != 2 || w.scalar_type().value != ScalarType.Float.value || w.is_cuda()) {
            throw new IllegalArgumentException("an fp16 matrix is made from a 2-d fp32 CPU tensor");
        }
        try (PointerScope scope = new PointerScope()) {
            return new HalfMatrix(owner.keep(w.to(ScalarType.Half).contiguous()));
        }
    }

    /** x (n, in) fp32 -> the preallocated {@code dst} (n, out) = x W^T + bias ({@code bias} (out) may be null). */
    public void forwardRows(Tensor x, Tensor bias, Tensor dst) {
        boolean ok = x.dim() == 2 && x.size(1) == in && dst.dim() == 2 && dst.size(0) == x.size(0)
                && dst.size(1) == out && is(x) && is(dst) && (bias == null || is(bias) && bias.numel() == out);
        if (!ok) {
            throw new IllegalArgumentException("fp16 product: x " + x.sizes().vec() + ", dst " + dst.sizes().vec()
                    + " for a (" + out + ", " + in + ") matrix: contiguous fp32 CPU tensors needed");
        }
        long m = x.size(0);
        int threads = out * in * m < MIN_SPLIT_WORK ? 1 : torch.get_num_threads();
        linear(x.data_ptr().address(), (int) m, (int) in, weight.data_ptr().address(),
                bias == null ? 0 : bias.data_ptr().address(), dst.data_ptr().address(), (int) out, PATH, threads);
    }

    /** The same on another path (3 AVX-512, 1 AVX2 + F16C, 0 plain C; capped to the CPU's), for tests. */
    void forwardRows(Tensor x, Tensor bias, Tensor dst, int path, int threads) {
        linear(x.data_ptr().address(), (int) x.size(0), (int) in, weight.data_ptr().address(),
                bias == null ? 0 : bias.data_ptr().address(), dst.data_ptr().address(), (int) out, path, threads);
    }

    private static boolean is(Tensor t) {
        return t.scalar_type().value == ScalarType.Float.value && t.is_contiguous() && !t.is_cuda();
    }

    private static native int linear(long x, int m, int in, long w, long bias, long y, int out, int path,
                                     int threads);
}
