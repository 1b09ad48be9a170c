package dev.localai.tts.core.nn;

import java.util.Locale;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * This project's int8-weight product for the CPU ({@code src/main/c/int8_kernel.c}, loaded by {@link NativeKernels}):
 * {@code y = (step_r * s) ⊙ (q xq_r) + b}, each input row {@code r} quantized on its own to int8
 * ({@code step_r = max|x_r| / 127}), the (out, in) int8 weight {@code q} read row-major as {@link Int8Matrix} keeps it.
 *
 * <p>Why: a T3 decode step multiplies every weight by one vector, so it is bound by how fast the weights stream from
 * memory. LibTorch's int8 kernels are compute-bound there: FBGEMM read 7 GB/s per core on the Intel Xeon VM, oneDNN's
 * and {@code _weight_int8pack_mm} less (docs/performance.md), where the memory gives 10-16 GB/s per core. This one
 * multiplies bytes by bytes with the CPU's integer dot-product instructions, 64 (AVX-512 VNNI), 32 (AVX-VNNI,
 * AVX2) or 16 (SSSE3) bytes at a time, and is bound by memory. It splits the output rows over LibTorch's own OpenMP
 * threads (the library shares LibTorch's libgomp), which are awake between LibTorch's other operations of a decode
 * step; threads of its own would compete with them for the cores. Whether it is faster on a machine is measured there ({@code DtypeProbe}'s
 * {@code int8-native} candidate), not assumed.
 *
 * <p>Numerics: the integer sums are exact, so every instruction set ({@link Isa}) and every split of the output rows
 * over threads gives the same bits, and a row's result does not depend on the other rows of the call (so batched
 * decoding gives each row the bits it gets alone). Non-finite input rows give NaN outputs.
 *
 * <p>Memory: the kernel reads the caller's tensors in place and writes the caller's output; it allocates nothing that
 * outlives a call (its scratch for the quantized input is on the native stack, or malloc'd and freed for large inputs).
 */
public final class Int8Kernel {

    /** The instruction sets the kernel has a path for, in the order of their codes (the C side's). */
    public enum Isa {
        SCALAR, SSSE3, AVX2, AVX_VNNI, AVX512_VNNI;

        /** {@code scalar}, {@code ssse3}, {@code avx2}, {@code avx-vnni}, {@code avx512-vnni}. */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', '-');
        }

        /** An ISA by its {@link #label()} (or enum name), case-insensitive. */
        public static Isa parse(String s) {
            String n = s.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            return Isa.valueOf(n);
        }
    }

    /** The ISAs this CPU runs, one bit per {@link Isa#ordinal()} (0 when the kernel is not loaded). */
    private static final int MASK = NativeKernels.available() ? detect() : 0;
    private static final Isa BEST = MASK == 0 ? null
            : capped(Isa.values()[31 - Integer.numberOfLeadingZeros(MASK)], System.getenv("ATEN_CPU_CAPABILITY"));

    private Int8Kernel() {}

    /**
     * The CPU's best ISA under LibTorch's own dispatch cap ({@link NativeKernels#capped}): {@code avx2} caps it at
     * AVX2, {@code default} (LibTorch's kernels for a CPU without AVX2) at SSSE3.
     */
    static Isa capped(Isa cpu, String atenCapability) {
        return Isa.values()[NativeKernels.capped(cpu.ordinal(), atenCapability, Isa.AVX2.ordinal(),
                Isa.SSSE3.ordinal())];
    }

    /** Whether the kernel is loaded on this machine. */
    public static boolean available() {
        return BEST != null;
    }

    /** Why the kernel is not available (null when it is). */
    public static String unavailableReason() {
        return NativeKernels.unavailableReason();
    }

    /**
     * The best instruction set this CPU runs, under {@code ATEN_CPU_CAPABILITY} when it caps LibTorch ({@link #capped};
     * null when the kernel is not available).
     */
    public static Isa best() {
        return BEST;
    }

    /**
     * Whether products can run on {@code isa} here: the CPU runs it and it is not above {@link #best()} (LibTorch's
     * dispatch cap included). Not a ladder: a Zen 4 runs AVX-512 VNNI but not AVX-VNNI.
     */
    public static boolean runs(Isa isa) {
        return BEST != null && (MASK >> isa.ordinal() & 1) != 0 && isa.ordinal() <= BEST.ordinal();
    }

    /**
     * The instruction set products use: {@link #best()}, or the system property {@code localai.tts.int8Isa}
     * ({@code scalar}, {@code ssse3}, {@code avx2}, {@code avx-vnni}, {@code avx512-vnni}) when it names one that
     * {@link #runs} (for comparisons; the results are the same bits; another value is ignored).
     */
    public static Isa isa() {
        String forced = System.getProperty("localai.tts.int8Isa");
        Forced last = lastForced;
        // parsed once per value of the property, not once per product
        if (last == null || !java.util.Objects.equals(last.property(), forced)) {
            last = new Forced(forced, forcedIsa(forced));
            lastForced = last;
        }
        return last.isa();
    }

    /** The property's last value and the ISA it gives. */
    private record Forced(String property, Isa isa) {}

    private static volatile Forced lastForced;

    private static Isa forcedIsa(String forced) {
        if (forced != null && !forced.isBlank() && BEST != null) {
            try {
                Isa f = Isa.parse(forced);
                if (runs(f)) {
                    return f;
                }
            } catch (IllegalArgumentException e) {
                // not an ISA's name: the best one
            }
        }
        return BEST;
    }

    /**
     * Columns {@code [n0, n1)} of {@code y} (m, out) = x (m, in) q^T scaled per row of q by {@code scale} (out) and
     * per row of x by its own quantization step, plus {@code bias} (out, or null), on up to {@code threads} of
     * LibTorch's OpenMP threads. Every tensor is a contiguous fp32 CPU tensor but {@code q}, contiguous int8
     * (out, in); the caller checks shapes ({@link #check}).
     */
    static void linear(Tensor x, Tensor q, Tensor scale, Tensor bias, Tensor y, long n0, long n1, Isa isa,
                       int threads) {
        int m = (int) x.size(0);
        int in = (int) x.size(1);
        int out = (int) q.size(0);
        int rc = linear(x.data_ptr().address(), m, in, q.data_ptr().address(), scale.data_ptr().address(),
                bias == null ? 0 : bias.data_ptr().address(), y.data_ptr().address(), out, (int) n0, (int) n1,
                isa.ordinal(), threads);
        if (rc == -1) {
            throw new OutOfMemoryError("int8 kernel: no memory for the quantized input (" + m + " x " + in + ")");
        }
        if (rc != 0) {
            throw new IllegalStateException("int8 kernel: " + isa.label() + " is not supported by this CPU");
        }
    }

    /** Checks the tensors {@link #linear} reads and writes: dtypes, shapes, contiguity, CPU. */
    static void check(Tensor x, Tensor q, Tensor scale, Tensor bias, Tensor y) {
        long out = q.size(0);
        long in = q.size(1);
        boolean ok = x.dim() == 2 && x.size(1) == in && y.dim() == 2 && y.size(0) == x.size(0) && y.size(1) == out
                && is(x, ScalarType.Float) && is(y, ScalarType.Float) && is(q, ScalarType.Char)
                && is(scale, ScalarType.Float) && scale.numel() == out
                && (bias == null || (is(bias, ScalarType.Float) && bias.numel() == out))
                && in <= 65536 && out <= Integer.MAX_VALUE && x.size(0) <= Integer.MAX_VALUE;
        if (!ok) {
            throw new IllegalArgumentException("int8 kernel: x " + x.sizes().vec() + ", q " + q.sizes().vec()
                    + ", y " + y.sizes().vec() + ": contiguous fp32 CPU tensors (int8 q) of matching shapes needed");
        }
    }

    private static boolean is(Tensor t, ScalarType type) {
        return t.scalar_type().value == type.value && t.is_contiguous() && !t.is_cuda();
    }

    /**
     * {@code {q, scale}}: the fp32 CPU matrix {@code w} (out, in) quantized as {@link Int8Matrix} does it (per row,
     * scale = max|w| / 127, 1 for a zero row; q = w / scale rounded to nearest even within [-127, 127], int8 (out, in)
     * row-major), the same bits as its LibTorch operations ({@code Int8KernelQuantizeTest}) in one pass over the
     * matrix, on LibTorch's intra-op threads. {@code w} may have its rows or its columns contiguous (a checkpoint's
     * transposed (in, out) matrix, read in place). Null where it does not run here (no native library, another layout
     * or dtype), or when {@code w} holds a NaN or an infinity: the caller quantizes such a matrix LibTorch's way. The
     * tensors are new (the caller's scope owns them).
     */
    static Tensor[] quantizeWeights(Tensor w) {
        if (!NativeKernels.available() || w.dim() != 2 || w.scalar_type().value != ScalarType.Float.value
                || w.is_cuda() || w.numel() == 0) {
            return null;
        }
        long out = w.size(0);
        long in = w.size(1);
        long sn = w.stride(0);
        long sk = w.stride(1);
        if (sk != 1 && sn != 1 && in != 1) {
            return null;
        }
        Tensor q = torch.empty(new long[] {out, in}, new TensorOptions(ScalarType.Char), null);
        Tensor scale = torch.empty(out);
        int rc = quantizeWeights(w.data_ptr().address(), out, in, sn, sk, q.data_ptr().address(),
                scale.data_ptr().address(), torch.get_num_threads());
        return rc == 0 ? new Tensor[] {q, scale} : null;
    }

    private static native int detect();

    private static native int quantizeWeights(long w, long out, long in, long sn, long sk, long q, long scale,
                                              int threads);

    private static native int linear(long x, int m, int in, long q, long scale, long bias, long y, int out, int n0,
                                     int n1, int isa, int threads);
}
