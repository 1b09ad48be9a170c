package dev.localai.tts.core.nn;

import java.util.Map;
import org.bytedeco.pytorch.GenericList;
import org.bytedeco.pytorch.IValue;
import org.bytedeco.pytorch.IValueVector;
import org.bytedeco.pytorch.NumberType;
import org.bytedeco.pytorch.OperatorHandle;
import org.bytedeco.pytorch.OptionalType;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.Type;
import org.bytedeco.pytorch.global.torch;

/**
 * {@code torch.nn.Linear(in, out, bias)}: keys {@code weight} (out, in) and, when present, {@code bias} (out).
 *
 * <p><b>The fp32 product's kernel.</b> LibTorch hands an fp32 {@code linear} on the CPU to OpenBLAS, which this
 * project pins to one thread ({@code runtime.Torch}); oneDNN's fp32 matmul ({@code mkldnn::_linear_pointwise}, reached
 * through the dispatcher) runs on LibTorch's intra-op threads with its own kernels. On the 2-core Intel Xeon VM the
 * fp32 S3Gen flow took 3.9-4.1 s for 5 s of audio with oneDNN against 5.4-6.3 s with OpenBLAS, in less CPU time; on
 * another CPU it may be the other way round, so the weight-type probe measures both ({@code fp32-onednn}) and the
 * engine sets {@link #useOnednnForFp32} process-wide (a property of the machine's kernels, like the thread count).
 * Only inputs of at least {@value #MIN_ONEDNN_ROWS} rows with both sizes multiples of 16 take it: oneDNN stores
 * other sizes in padded blocked layouts, the kind that read never-written padding in issue 12's convolutions; and a
 * single row is a matrix-vector product, OpenBLAS's strength.
 */
public final class Linear {
    public final Tensor weight;
    /** Null without a bias. */
    public final Tensor bias;
    /** The bf16 weight in oneDNN's own blocked layout (see {@link #packed}), or null. */
    private final Tensor packedWeight;

    /** The system property that, set to {@code false}, keeps bf16 weights in LibTorch's layout. */
    public static final String PACK_PROPERTY = "localai.tts.packedBf16Linear";

    public Linear(ParamSource p, long in, long out, boolean hasBias) {
        this(p, p.take("weight", out, in), hasBias ? p.take("bias", out) : null);
    }

    private Linear(ParamSource p, Tensor weight, Tensor bias) {
        this.weight = weight;
        this.bias = bias;
        this.packedWeight = packable(weight) ? p.keep(Packed.pack(weight)) : null;
    }

    /**
     * A product over a weight (out, in) and bias (out, or null) that {@code p}'s owner already holds (taken, or kept
     * when derived at load, as {@link RowConv1d}'s matrix is); packed as {@link #Linear(ParamSource, long, long,
     * boolean)} packs.
     */
    public static Linear over(ParamSource p, Tensor weight, Tensor bias) {
        return new Linear(p, weight, bias);
    }

    /** x (..., in) -> (..., out). */
    public Tensor forward(Tensor x) {
        if (packedWeight != null && x.scalar_type().value == torch.ScalarType.BFloat16.value && !x.is_cuda()
                && x.dim() >= 2 && x.numel() / x.size(-1) >= MIN_ONEDNN_ROWS) {
            return pointwise(x.contiguous(), packedWeight, bias);
        }
        return linear(x, weight, bias);
    }

    /**
     * Whether this layer's weight is kept packed: bf16 on the CPU, where this LibTorch build has oneDNN's linear
     * weight reorder. LibTorch's own bf16 {@code linear} hands oneDNN the weight in LibTorch's layout, and oneDNN
     * reorders it into its blocked layout on every call; packed once at load, the S3Gen flow's products at its sizes
     * (256 -> 512, 256 -> 1024, 1024 -> 256, 512 -> 256 over 60 to 1500 rows) took 5-30% less time on the Intel
     * Xeon VM, with the same bits (docs/performance.md, "Sixth round of 2026-12-03"). Inputs of fewer than
     * {@value #MIN_ONEDNN_ROWS} rows (decode steps) keep LibTorch's path.
     */
    public boolean packed() {
        return packedWeight != null;
    }

    private static boolean packable(Tensor w) {
        return w.scalar_type().value == torch.ScalarType.BFloat16.value && !w.is_cuda() && w.dim() == 2
                && w.size(0) % 16 == 0 && w.size(1) % 16 == 0
                && !"false".equalsIgnoreCase(System.getProperty(PACK_PROPERTY)) && Packed.available();
    }

    /**
     * oneDNN's linear weight reorder, looked up once (absent from builds without oneDNN), and whether it takes bf16
     * here: oneDNN refuses bf16 weights on CPUs (or under an {@code ONEDNN_MAX_CPU_ISA} cap) without AVX-512 BW/VL/DQ
     * or AVX-NE-CONVERT, so a small weight is packed and used once to find out.
     */
    private static final class Packed {
        private static final OperatorHandle REORDER = find();
        private static final boolean WORKS = REORDER != null && onednnAvailable() && tryOnce();

        private static boolean tryOnce() {
            try (org.bytedeco.javacpp.PointerScope scope = new org.bytedeco.javacpp.PointerScope()) {
                Tensor w = torch.ones(16, 16).to(torch.ScalarType.BFloat16);
                Tensor y = pointwise(torch.ones(16, 16).to(torch.ScalarType.BFloat16), pack(w), null);
                return y.size(0) == 16 && y.size(1) == 16;
            } catch (RuntimeException e) {
                return false; // e.g. "bf16 path needs the cpu support avx_ne_convert or avx512bw, avx512vl and avx512dq"
            }
        }

        private static OperatorHandle find() {
            try {
                return org.bytedeco.pytorch.Dispatcher.singleton().findSchemaOrThrow("mkldnn::_reorder_linear_weight",
                        "").retainReference();
            } catch (RuntimeException | LinkageError e) {
                return null;
            }
        }

        static boolean available() {
            return WORKS;
        }

        /** w (out, in) -> a new tensor of the same values in oneDNN's layout (no batch-size hint: any row count). */
        static Tensor pack(Tensor w) {
            try (IValueVector stack = new IValueVector(new IValue(w), OnednnOp.NONE)) {
                REORDER.callBoxed(stack);
                return new Tensor(stack.get(0).toTensor()); // a reference of its own: the stack is freed here
            }
        }
    }

    /** Fewest input rows an fp32 product needs to go to oneDNN when {@link #useOnednnForFp32} is on. */
    public static final long MIN_ONEDNN_ROWS = 16;
    private static volatile boolean onednnFp32;
    /** Products sent to oneDNN so far (tests check the routing with it: on small sizes both kernels agree bitwise). */
    static final java.util.concurrent.atomic.AtomicLong ONEDNN_CALLS = new java.util.concurrent.atomic.AtomicLong();

    /**
     * oneDNN's fp32 linear and its constant arguments (attr "none", no scalars, no algorithm: the plain product),
     * made at first use; retained, so a {@code PointerScope} open at that moment does not free them when it closes.
     */
    private static final class OnednnOp {
        static final OperatorHandle LINEAR = org.bytedeco.pytorch.Dispatcher.singleton().findSchemaOrThrow(
                "mkldnn::_linear_pointwise", "").retainReference();
        static final IValue NONE = new IValue().retainReference();
        static final IValue ATTR = new IValue("none").retainReference();
        static final IValue NO_SCALARS = new IValue(new GenericList(OptionalType.get(new Type.TypePtr(
                NumberType.getNumberIntTypePtr().get())))).retainReference();
    }

    /**
     * Sends the fp32 CPU products of every {@code Linear} (of enough rows, sizes multiples of 16) to oneDNN instead
     * of OpenBLAS, process-wide. Off by default; the engine turns it on where the probe measured oneDNN faster. Stays
     * off where the LibTorch build has no oneDNN linear ({@link #onednnAvailable}).
     */
    public static void useOnednnForFp32(boolean on) {
        onednnFp32 = on && onednnAvailable();
    }

    /** Whether this LibTorch build has oneDNN's linear operator (looked up once). */
    public static boolean onednnAvailable() {
        try {
            return OnednnOp.LINEAR != null;
        } catch (RuntimeException | LinkageError e) {
            return false;
        }
    }

    /** Whether fp32 products go to oneDNN ({@link #useOnednnForFp32}). */
    public static boolean onednnForFp32() {
        return onednnFp32;
    }

    /** x (..., in) W^T + bias ({@code bias} may be null), on the kernel {@link #useOnednnForFp32} chose. */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias) {
        return linear(x, w, bias, onednnFp32);
    }

    /** The same with the kernel given: {@code onednn} for fp32 CPU products that qualify, else LibTorch's own. */
    public static Tensor linear(Tensor x, Tensor w, Tensor bias, boolean onednn) {
        if (onednn && qualifies(x, w)) {
            return onednnLinear(x, w, bias);
        }
        return bias == null ? torch.linear(x, w) : torch.linear(x, w, new TensorOptional(bias));
    }

    private static boolean qualifies(Tensor x, Tensor w) {
        int f = torch.ScalarType.Float.value;
        return !x.is_cuda() && x.scalar_type().value == f && w.scalar_type().value == f && w.dim() == 2
                && w.size(0) % 16 == 0 && w.size(1) % 16 == 0 && x.dim() >= 2 && x.size(-1) == w.size(1)
                && x.numel() / x.size(-1) >= MIN_ONEDNN_ROWS;
    }

    private static Tensor onednnLinear(Tensor x, Tensor w, Tensor bias) {
        ONEDNN_CALLS.incrementAndGet();
        return pointwise(x, w, bias);
    }

    /** oneDNN's plain linear: x (..., in) W^T + bias, W in LibTorch's layout or packed. */
    private static Tensor pointwise(Tensor x, Tensor w, Tensor bias) {
        OperatorHandle op = OnednnOp.LINEAR;
        // (X, W, B?, attr, scalars, algorithm)
        try (IValueVector stack = new IValueVector(new IValue(x), new IValue(w),
                bias == null ? OnednnOp.NONE : new IValue(bias), OnednnOp.ATTR, OnednnOp.NO_SCALARS, OnednnOp.NONE)) {
            op.callBoxed(stack);
            return new Tensor(stack.get(0).toTensor()); // a reference of its own: the stack is freed here
        }
    }

    /** The keys of one Linear with their shapes, for checkpoint writers and shape checks. */
    public static void shapes(Map<String, long[]> m, String prefix, long in, long out, boolean hasBias) {
        m.put(prefix + ".weight", new long[] {out, in});
        if (hasBias) {
            m.put(prefix + ".bias", new long[] {out});
        }
    }
}
