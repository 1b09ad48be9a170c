package dev.localai.tts.core.nn;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A linear layer's (out, in) fp32 weight stored as int8 with one scale per output row, {@code y = s ⊙ (q x) + b},
 * multiplied by one of two kernels ({@link Kernel}), fixed per matrix when it is quantized:
 * <ul>
 *   <li>{@link Kernel#FBGEMM}: FBGEMM's int8 GEMM. FBGEMM quantizes each call's input to uint8 with one scale and zero
 *       point for the whole input (dynamic quantization, as PyTorch's {@code quantize_dynamic} does on the CPU),
 *       multiplies in int32 and dequantizes to fp32; the per-row weight scales and the bias are applied here.</li>
 *   <li>{@link Kernel#NATIVE}: this project's {@link Int8Kernel}, which quantizes each input row on its own (so a row's
 *       result never depends on the others) and reads the weights at memory speed; its products are split by output
 *       rows over LibTorch's intra-op threads.</li>
 * </ul>
 * Which one new matrices get is process-wide ({@link #useNativeKernel}), chosen by the engine from the weight-type
 * probe's timing of both.
 *
 * <p>Why: a T3 decode step is a matrix-vector product per weight matrix, bound by how fast the weights stream from
 * memory; int8 weights are a quarter of fp32's bytes. FBGEMM's kernel is LibTorch's
 * {@code fbgemm_linear_int8_weight_fp32_activation} (deprecated upstream in favour of the {@code quantized::}
 * operators, which the Java bindings do not reach; it is the same FBGEMM kernel). It runs on LibTorch's intra-op
 * threads and needs AVX2: {@link #supported()} says whether this CPU has it, {@link #usable()} whether either kernel
 * runs.
 *
 * <p>Accuracy: per-row weight rounding (half a step of {@code max|row|/127}) and the input's 8-bit rounding (256
 * levels over the whole input for FBGEMM, 255 per row for the native kernel); measured against fp32 by
 * {@code Int8MatrixTest} and, end to end, by {@code T3Int8AccuracyTest}, for both kernels.
 *
 * <p>Memory: the int8 matrix (FBGEMM's packed form, or row-major for the native kernel), the row scales and column
 * sums are kept through {@link ParamSource#keep}, so they belong to the model's {@link Weights}; the fp32 weight is not
 * kept (the caller frees it).
 */
public final class Int8Matrix {
    /** The kernels an int8 matrix can be multiplied by. */
    public enum Kernel {
        /** LibTorch's FBGEMM int8 GEMM (needs AVX2), on LibTorch's intra-op threads. */
        FBGEMM,
        /** This project's {@link Int8Kernel} (Linux x86-64), on LibTorch's intra-op threads. */
        NATIVE
    }

    /**
     * The system property that fixes the kernel ({@code native} or {@code fbgemm}) over the probe's choice, for
     * comparisons.
     */
    public static final String KERNEL_PROPERTY = "localai.tts.int8Kernel";

    /** The kernel new matrices get: see {@link #useNativeKernel}. */
    private static volatile Kernel defaultKernel =
            "native".equalsIgnoreCase(System.getProperty(KERNEL_PROPERTY)) && Int8Kernel.available()
                    ? Kernel.NATIVE : Kernel.FBGEMM;

    /** This matrix's kernel. */
    private final Kernel kernel;
    /** (out): fp32 row scales. */
    private final Tensor scale;
    /** FBGEMM's packed matrix; null until {@link #pack()} (see {@link #quantizeUnpacked}). */
    private volatile Tensor packed;
    /** (out, in) int8 row-major: FBGEMM's until it is packed; the native kernel's for good. */
    private volatile Tensor unpacked;
    private final Owner owner;

    /** Where a matrix's tensors belong: a model's {@link Weights} (through its source) or a caller's. */
    private record Owner(java.util.function.UnaryOperator<Tensor> keep, java.util.function.Consumer<Tensor> free) {
        static Owner of(ParamSource p) {
            return new Owner(p::keep, p::free);
        }

        static Owner of(Weights w) {
            return new Owner(w::keep, w::free);
        }
    }

    /** (out) int32: the sum of each row's int8 values (FBGEMM's correction for the input's zero point); FBGEMM only. */
    private final Tensor rowSums;
    /** (out, in) int8 view of one element, expanded: FBGEMM reads only the weight's shape from it; FBGEMM only. */
    private final Tensor shape;
    /** (out) fp32 zeros: the bias FBGEMM adds before the row scales are applied; FBGEMM only. */
    private final Tensor zeros;
    private final long out;
    private final long in;

    private static volatile Boolean supported;
    /** Width of a magnitude band of {@link #productByBands}. */
    static final double BAND = 4;

    private Int8Matrix(Kernel kernel, Tensor scale, Tensor unpacked, Tensor rowSums, Tensor shape, Tensor zeros,
                       long out, long in, Owner owner) {
        this.kernel = kernel;
        this.scale = scale;
        this.unpacked = unpacked;
        this.owner = owner;
        this.rowSums = rowSums;
        this.shape = shape;
        this.zeros = zeros;
        this.out = out;
        this.in = in;
    }

    /**
     * Quantizes an fp32 (out, in) weight: per row, scale {@code max|w|/127} (1 for an all-zero row) and
     * {@code q = round(w / scale)} in [-127, 127]. {@code w} may be a transposed view of the checkpoint's (in, out)
     * tensor: it is read in place, and only the int8 result is made contiguous. The new tensors are handed to
     * {@code owner} ({@link ParamSource#keep}); {@code w} is left to the caller.
     */
    public static Int8Matrix quantize(Tensor w, ParamSource owner) {
        Int8Matrix m = quantizeOnSupportedCpu(w, Owner.of(owner), defaultKernel);
        m.pack();
        return m;
    }

    /** {@link #quantize(Tensor, ParamSource)} with the new tensors kept by {@code owner}. */
    public static Int8Matrix quantize(Tensor w, Weights owner) {
        return quantize(w, owner, defaultKernel);
    }

    /**
     * {@link #quantize(Tensor, Weights)} for {@code kernel} (for comparisons; models take the process-wide default).
     * Where that kernel does not run, the other one is used ({@link #kernel()} says which).
     */
    public static Int8Matrix quantize(Tensor w, Weights owner, Kernel kernel) {
        Int8Matrix m = quantizeOnSupportedCpu(w, Owner.of(owner), kernel);
        m.pack();
        return m;
    }

    /**
     * Which kernel matrices quantized from now on get, process-wide: {@link Kernel#NATIVE} when {@code nativeKernel}
     * and {@link Int8Kernel#available()}, else {@link Kernel#FBGEMM}. Matrices already made keep theirs. The engine
     * sets it from the weight-type probe before loading a model.
     */
    public static void useNativeKernel(boolean nativeKernel) {
        defaultKernel = nativeKernel && Int8Kernel.available() ? Kernel.NATIVE : Kernel.FBGEMM;
    }

    /**
     * {@link #useNativeKernel} from a measured choice, unless {@link #KERNEL_PROPERTY} fixes the kernel (then that).
     * Returns whether new matrices now get the native kernel.
     */
    public static boolean useMeasuredKernel(boolean nativeMeasuredFaster) {
        String fixed = System.getProperty(KERNEL_PROPERTY);
        useNativeKernel(fixed == null || fixed.isBlank() ? nativeMeasuredFaster : "native".equalsIgnoreCase(fixed));
        return nativeKernel();
    }

    /** Whether matrices quantized now get the native kernel ({@link #useNativeKernel}). */
    public static boolean nativeKernel() {
        return defaultKernel == Kernel.NATIVE;
    }

    /** This matrix's kernel. */
    public Kernel kernel() {
        return kernel;
    }

    /**
     * {@link #quantize(Tensor, ParamSource)} without FBGEMM's packing, the slowest part of loading (about 40 ms for a
     * 4096 x 1024 matrix, on one core): a model loading many matrices quantizes them all, then packs them over the
     * cores (T3 does, through its matrix splitter). Multiplying before the matrix is packed throws.
     */
    public static Int8Matrix quantizeUnpacked(Tensor w, ParamSource owner) {
        return quantizeOnSupportedCpu(w, Owner.of(owner), defaultKernel);
    }

    /**
     * Packs the matrix for FBGEMM (once; later calls do nothing) and frees its unpacked copy; nothing for the native
     * kernel, which reads the row-major matrix. Matrices may be packed from several threads at once.
     */
    public synchronized void pack() {
        if (packed != null || kernel == Kernel.NATIVE) {
            return;
        }
        try (PointerScope scope = new PointerScope()) {
            packed = owner.keep().apply(torch.fbgemm_pack_quantized_matrix(unpacked));
        }
        owner.free().accept(unpacked);
        unpacked = null;
    }

    private static Int8Matrix quantizeOnSupportedCpu(Tensor w, Owner owner, Kernel kernel) {
        boolean fbgemm = supported(); // the first call also uses up LibTorch's one-time deprecation warnings quietly
        if (!fbgemm && !Int8Kernel.available()) {
            throw new UnsupportedOperationException("int8 weights need FBGEMM or this project's int8 kernel, neither "
                    + "of which runs here (x86-64 with AVX2 needed for FBGEMM; " + Int8Kernel.unavailableReason()
                    + " for the kernel); use fp32 or bf16");
        }
        boolean nativeRuns = Int8Kernel.available() && (w.dim() != 2 || w.size(1) <= 65536);
        Kernel k = kernel == Kernel.NATIVE && nativeRuns || !fbgemm ? Kernel.NATIVE : Kernel.FBGEMM;
        return quantizeUnchecked(w, owner, k);
    }

    private static Int8Matrix quantizeUnchecked(Tensor w, Owner owner, Kernel kernel) {
        if (w.dim() != 2 || w.scalar_type().value != ScalarType.Float.value || w.is_cuda()) {
            throw new IllegalArgumentException("int8 weights are made from a 2-d fp32 CPU tensor");
        }
        long out = w.size(0);
        long in = w.size(1);
        try (PointerScope scope = new PointerScope()) {
            // the native pass where it runs (the same bits in one read of w: it was most of T3's int8 load time),
            // else LibTorch's operations
            Tensor[] qs = Int8Kernel.quantizeWeights(w);
            if (qs == null) {
                qs = quantizeWithLibTorch(w);
            }
            Tensor q = qs[0];
            Tensor scale = owner.keep().apply(qs[1]);
            if (kernel == Kernel.NATIVE) { // reads the int8 matrix and the scales only
                return new Int8Matrix(kernel, scale, owner.keep().apply(q), null, null, null, out, in, owner);
            }
            Tensor sums = q.to(ScalarType.Int).sum(new long[] {1}, false, new org.bytedeco.pytorch.ScalarTypeOptional(
                    ScalarType.Int)).contiguous();
            Tensor one = torch.zeros(1, 1).to(ScalarType.Char);
            Tensor shape = one.expand(out, in);
            Tensor zeros = torch.zeros(out);
            // the int8 copy belongs to the owner too (freed at its close if never packed), until pack() frees it
            return new Int8Matrix(kernel, scale, owner.keep().apply(q), owner.keep().apply(sums),
                    owner.keep().apply(shape), owner.keep().apply(zeros), out, in, owner);
        }
    }

    /**
     * {@code {q, scale}} of an fp32 (out, in) matrix by LibTorch's operations: per row, scale = max|w| / 127 (1 for a
     * zero row), q = w / scale rounded to nearest even and clamped to [-127, 127], int8 (out, in) contiguous, scale
     * (out). The definition {@link Int8Kernel#quantizeWeights} matches bit for bit, and the path for matrices it does
     * not take (non-finite values, where the result follows LibTorch's rules for them).
     */
    static Tensor[] quantizeWithLibTorch(Tensor w) {
        Tensor absMax = w.abs().amax(new long[] {1}, true);
        Tensor s = absMax.div(new Scalar(127.0));
        s.masked_fill_(s.eq(new Scalar(0.0)), new Scalar(1.0));
        // one temporary: round and clamp in place, then int8 (made contiguous: w may be a transposed view)
        Tensor q = w.div(s).round_().clamp_(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-127.0)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(127.0))).to(ScalarType.Char).contiguous();
        return new Tensor[] {q, s.view(w.size(0)).contiguous()};
    }

    /** x (..., in) fp32 -> a new (..., out) = x W^T + bias ({@code bias} may be null). */
    public Tensor forward(Tensor x, Tensor bias) {
        if (kernel == Kernel.NATIVE) {
            Tensor x2 = x.reshape(-1, in).contiguous();
            Tensor y = torch.empty(x2.size(0), out);
            nativeProduct(x2, bias, y);
            if (x.dim() == 2) {
                return y;
            }
            long[] dims = x.sizes().vec().get();
            dims[dims.length - 1] = out;
            return y.view(dims);
        }
        Tensor y = raw(x);
        return bias == null ? y.mul_(scale) : torch.addcmul(bias, y, scale);
    }

    /** One vector x (in) -> {@code dst} (out) = W x + bias, written in place. */
    public void forwardVec(Tensor x, Tensor bias, Tensor dst) {
        forwardRows(x.reshape(1, in), bias, dst.view(1, out));
    }

    /** x (n, in) -> the preallocated {@code dst} (n, out) = x W^T + bias ({@code bias} may be null). */
    public void forwardRows(Tensor x, Tensor bias, Tensor dst) {
        try (PointerScope scope = new PointerScope()) {
            if (kernel == Kernel.NATIVE) {
                Tensor x2 = x.contiguous();
                if (dst.is_contiguous()) {
                    nativeProduct(x2, bias, dst);
                } else {
                    Tensor y = torch.empty(x2.size(0), out);
                    nativeProduct(x2, bias, y);
                    dst.copy_(y);
                }
                return;
            }
            Tensor y = raw(x);
            if (bias == null) {
                torch.mul_out(dst, y, scale);
            } else {
                torch.addcmul_out(dst, bias, y, scale);
            }
        }
    }

    /**
     * The native kernel's y (m, out) = x (m, in) W^T + bias, y preallocated and contiguous, on LibTorch's intra-op
     * threads (one for products too small to split).
     */
    private void nativeProduct(Tensor x2, Tensor bias, Tensor y) {
        Tensor q = unpacked;
        Tensor b = bias == null ? null : bias.is_contiguous() ? bias : bias.contiguous();
        Int8Kernel.check(x2, q, scale, b, y);
        int threads = out * in * x2.size(0) < MIN_SPLIT_WORK ? 1 : torch.get_num_threads();
        Int8Kernel.linear(x2, q, scale, b, y, 0, out, Int8Kernel.isa(), threads);
    }

    /** The native kernel's (out, in) int8 matrix (null for FBGEMM's), for {@link DecoderBlockKernel}. */
    Tensor nativeMatrix() {
        return kernel == Kernel.NATIVE ? unpacked : null;
    }

    /** The (out) fp32 row scales. */
    Tensor rowScales() {
        return scale;
    }

    /** Input features. */
    public long in() {
        return in;
    }

    /** Output features. */
    public long out() {
        return out;
    }

    /** Products with fewer multiply-adds than this run on one thread: the others' wake-up would cost more. */
    static final long MIN_SPLIT_WORK = 1L << 16;

    private Tensor raw(Tensor x) {
        Tensor x2 = x.dim() == 2 ? x : x.reshape(-1, in);
        Tensor y = x2.size(0) == 1 ? product(x2) : productByBands(x2.contiguous());
        if (x.dim() == 2) {
            return y;
        }
        long[] dims = x.sizes().vec().get();
        dims[dims.length - 1] = out;
        return y.view(dims);
    }

    /** FBGEMM's product without the row scales: x (m, in) -> (m, out), x quantized with one scale for all m rows. */
    private Tensor product(Tensor x2) {
        Tensor p = packed;
        if (p == null) {
            throw new IllegalStateException("int8 matrix used before it was packed");
        }
        return torch.fbgemm_linear_int8_weight_fp32_activation(x2, shape, p, rowSums, ONE, ZERO, zeros);
    }

    /**
     * Several rows: FBGEMM quantizes its whole input with one scale, so one row of much larger magnitude (a
     * transformer's first position often is one) would leave the others only a few levels. Rows are therefore
     * grouped by magnitude, in bands of {@value #BAND}x of the largest row's, each band one product (each reads the
     * matrix again: usually there is one band, at most a few): no row is quantized with a step more than
     * {@value #BAND} times its own.
     */
    private Tensor productByBands(Tensor x2) {
        long m = x2.size(0);
        float[] mags = new float[(int) m];
        try (Tensor r = x2.abs().amax(new long[] {1}, false).contiguous()) {
            r.data_ptr_float().get(mags);
        }
        float top = 0;
        for (float v : mags) {
            top = Math.max(top, v);
        }
        int[] band = new int[mags.length];
        int bands = 1;
        for (int i = 0; i < mags.length; i++) {
            double ratio = mags[i] > 0 ? top / mags[i] : 1;
            band[i] = ratio <= 1 ? 0 : (int) Math.floor(Math.log(ratio) / Math.log(BAND));
            bands = Math.max(bands, band[i] + 1);
        }
        if (bands == 1) {
            return product(x2);
        }
        Tensor y = torch.empty(m, out);
        for (int b = 0; b < bands; b++) {
            int count = 0;
            for (int v : band) {
                count += v == b ? 1 : 0;
            }
            if (count == 0) {
                continue;
            }
            long[] rows = new long[count];
            for (int i = 0, k = 0; i < band.length; i++) {
                if (band[i] == b) {
                    rows[k++] = i;
                }
            }
            try (PointerScope scope = new PointerScope()) {
                Tensor idx = torch.from_blob(new org.bytedeco.javacpp.LongPointer(rows), new long[] {count},
                        new org.bytedeco.pytorch.TensorOptions(ScalarType.Long)).clone();
                y.index_copy_(0, idx, product(x2.index_select(0, idx).contiguous()));
            }
        }
        return y;
    }

    /** Whether int8 matrices can be made here: FBGEMM runs ({@link #supported()}) or {@link Int8Kernel} is loaded. */
    public static boolean usable() {
        return supported() || Int8Kernel.available();
    }

    /**
     * Whether this CPU runs FBGEMM (x86-64 with AVX2): measured once by packing and multiplying a small matrix, since
     * LibTorch throws on CPUs FBGEMM does not support.
     */
    public static boolean supported() {
        Boolean s = supported;
        if (s == null) {
            synchronized (Int8Matrix.class) {
                s = supported;
                if (s == null) {
                    s = dev.localai.tts.core.runtime.Torch.withNativeWarningsQuiet(Int8Matrix::probe);
                    supported = s;
                }
            }
        }
        return s;
    }

    private static boolean probe() {
        try (PointerScope scope = new PointerScope(); Weights owner = new Weights()) {
            Int8Matrix m = quantizeUnchecked(torch.eye(32), Owner.of(owner), Kernel.FBGEMM);
            m.pack();
            Tensor x = torch.arange(new Scalar(32)).to(ScalarType.Float);
            Tensor y = m.forward(x, null);
            return y.sub(x).abs().max().item_double() < 0.5;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private static final Scalar ONE = new Scalar(1.0).retainReference();
    private static final Scalar ZERO = new Scalar(0L).retainReference();
}
