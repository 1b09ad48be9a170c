package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * One decode step of a pre-LN GPT-2 block on the CPU as one native call ({@code src/main/c/decoder_kernel.c}), for
 * one or more rows, each the newest token of its own sequence:
 * <pre>
 *   h = ln_1(x);  q|k|v = c_attn(h);  k, v -&gt; the row's cache;  x += c_proj(attention(q, cache))
 *   h = ln_2(x);  x += mlp.c_proj(gelu_tanh(mlp.c_fc(h)))
 * </pre>
 * The four matrices are int8 on {@link Int8Kernel} (the same quantization and bits as {@link Int8Matrix}'s native
 * kernel), the attention is {@link CpuAttention}'s, the layer norms sum their moments in double, the GELU is GPT-2's
 * {@code gelu_new} ({@code x / (1 + exp(-2u))}, {@code u = sqrt(2/pi) (x + 0.044715 x^3)}, the same function as
 * {@code 0.5 x (1 + tanh u)}), all in one OpenMP region on LibTorch's threads.
 *
 * <p>Why: with the products and the attention at the memory's speed, a T3 decode step made of LibTorch operations
 * still spent about a quarter of its time between them: twenty-odd operations per block, each created, dispatched
 * and freed through the Java bindings, for layer norms and additions of a thousand values (docs/performance.md).
 * A {@link Stack} runs all of a model's blocks in one call and one OpenMP region; where a step has fewer rows than
 * threads (one session), or at most three rows (a small batch: two or three requests at once on a 2-core machine),
 * every thread does the row work (layer norms, adds, quantizing a product's input) on its own
 * copy of the rows and the threads share out each phase's units without a barrier: a thread that has taken all the
 * work it could and still sees units open after some tens of microseconds computes them itself, so a thread that the
 * scheduler or the hypervisor has taken away stalls no one (the step waits for it only at its end, if it is still
 * away then). A larger batch's threads divide the rows' row work and meet at barriers between the phases (on every
 * thread the row work would grow with the rows).
 *
 * <p>Numerics: a row's result depends only on that row, and not on the thread count (every value is computed by one
 * thread in a fixed order), so batched rows get the bits they get alone. Against the same block as LibTorch
 * operations it differs by rounding in the layer norms and the GELU, which an int8 input quantization can turn into
 * one quantization step of a value; {@code DecoderBlockKernelTest} bounds it, {@code T3Int8AccuracyTest} bounds the
 * whole model against fp32 with it.
 *
 * <p>Where it runs: blocks whose matrices are on the native int8 kernel ({@link #of} returns null otherwise) with
 * fp32, fp16 or int8 CPU caches (int8 by default: {@link #cacheType()}); the system property
 * {@value #PROPERTY}{@code =false} turns it off (LibTorch's operations then run between the native kernels, for
 * comparisons). Memory: it reads the block's tensors (owned by the model's
 * {@link Weights}) and the caller's residual rows and caches in place; its scratch (for one session's step every
 * layer's outputs, about 1 MB for T3) is freed before it returns.
 */
public final class DecoderBlockKernel {
    /** The system property that, set to {@code false}, keeps blocks on LibTorch's operations. */
    public static final String PROPERTY = "localai.tts.fusedDecode";
    /** Blocks with fewer multiply-adds per row than this run on one thread. */
    private static final long MIN_SPLIT_WORK = 1L << 16;
    private static volatile boolean on = !"false".equalsIgnoreCase(System.getProperty(PROPERTY, "").trim());
    /** The system property that sets the element type of fused blocks' caches: int8, fp16 or fp32. */
    public static final String CACHE_PROPERTY = "localai.tts.kvCache";
    /** The caches' element type where {@value #CACHE_PROPERTY} does not say. */
    public static final KvType DEFAULT_CACHE = KvType.INT8;
    private static volatile KvType cacheType = cacheTypeFrom(System.getProperty(CACHE_PROPERTY));

    /** The system property that, set to {@code false}, runs a model's blocks one native call each (for comparisons). */
    public static final String STACK_PROPERTY = "localai.tts.stackedDecode";
    private static volatile boolean stacked =
            !"false".equalsIgnoreCase(System.getProperty(STACK_PROPERTY, "").trim());

    private final long[] params;
    private final int d;
    private final int heads;
    private final int inner;
    private final float eps;
    private final float scale;
    private final long work;

    private DecoderBlockKernel(long[] params, int d, int heads, int inner, double eps) {
        this.params = params;
        this.d = d;
        this.heads = heads;
        this.inner = inner;
        this.eps = (float) eps;
        this.scale = (float) (1.0 / Math.sqrt(d / heads));
        this.work = (long) d * (4L * d + 2L * inner);
    }

    /** Whether the kernel is loaded here. */
    public static boolean available() {
        return Int8Kernel.available() && CpuAttention.available();
    }

    /** Whether blocks that can use the kernel do ({@link #PROPERTY}, {@link #use}). */
    public static boolean enabled() {
        return on && available();
    }

    /** Turns the kernel on or off for every block from now on (for comparisons and tests). */
    public static void use(boolean enabled) {
        on = enabled;
    }

    /** Whether a model runs its fused blocks as one {@link Stack} call ({@value #STACK_PROPERTY}), or one call each. */
    public static boolean stacked() {
        return stacked;
    }

    /** Sets {@link #stacked()} (for comparisons and tests). */
    public static void useStack(boolean stack) {
        stacked = stack;
    }

    /**
     * The element type of caches made from now on for fused blocks ({@value #CACHE_PROPERTY}; {@link #DEFAULT_CACHE}
     * unless it says otherwise). A decode step reads every cached key and value once: at 500 positions T3's cache is
     * 98 MB in fp32, a third of its int8 weights' bytes, 49 MB in fp16 and 25 MB in int8 (with its row scales). fp16's
     * rounding is 2^-11 of a value; int8's, half a step of a head row's max|x| / 127, is the same kind of rounding as
     * the int8 weights' own (a row's max / 127 per weight), over 64 values instead of 1024. Neither makes a value
     * infinite. {@code T3Int8AccuracyTest} bounds each against fp32 T3.
     */
    public static KvType cacheType() {
        return cacheType;
    }

    /** Sets {@link #cacheType()} for caches made from now on (for comparisons and tests). */
    public static void useCacheType(KvType type) {
        cacheType = java.util.Objects.requireNonNull(type, "type");
    }

    /** The property's type, or {@link #DEFAULT_CACHE} where it is unset or unreadable (logged as a warning). */
    static KvType cacheTypeFrom(String property) {
        if (property == null || property.isBlank()) {
            return DEFAULT_CACHE;
        }
        try {
            return KvType.parse(property);
        } catch (IllegalArgumentException e) {
            System.getLogger(DecoderBlockKernel.class.getName()).log(System.Logger.Level.WARNING,
                    "-D" + CACHE_PROPERTY + "=" + property + " ignored (" + e.getMessage() + "): "
                    + DEFAULT_CACHE.label() + " caches");
            return DEFAULT_CACHE;
        }
    }

    /**
     * The kernel for one block, or null where it cannot run it: the kernel is not loaded, or a matrix is not on
     * {@link Int8Matrix.Kernel#NATIVE}. Matrices are {@code (out, in)}: {@code qkv} (3D, D), {@code attnProj} (D, D),
     * {@code fc} (inner, D), {@code proj} (D, inner); every other tensor a contiguous fp32 vector (biases may be null).
     */
    public static DecoderBlockKernel of(LayerNorm ln1, Int8Matrix qkv, Tensor qkvBias, Int8Matrix attnProj,
                                        Tensor attnBias, LayerNorm ln2, Int8Matrix fc, Tensor fcBias,
                                        Int8Matrix proj, Tensor projBias, int heads, double eps) {
        if (!available()) {
            return null;
        }
        for (Int8Matrix m : new Int8Matrix[] {qkv, attnProj, fc, proj}) {
            if (m.nativeMatrix() == null) {
                return null;
            }
        }
        int d = (int) qkv.in();
        int inner = (int) fc.out();
        if (heads <= 0 || d % heads != 0 || qkv.out() != 3L * d || attnProj.in() != d || attnProj.out() != d
                || fc.in() != d || proj.in() != inner || proj.out() != d) {
            throw new IllegalArgumentException("decoder block kernel: matrices of a GPT-2 block of width " + d
                    + " and " + heads + " heads needed");
        }
        long[] p = {
            vector(ln1.weight, d), vector(ln1.bias, d),
            matrix(qkv), vector(qkv.rowScales(), 3 * d), vector(qkvBias, 3 * d),
            matrix(attnProj), vector(attnProj.rowScales(), d), vector(attnBias, d),
            vector(ln2.weight, d), vector(ln2.bias, d),
            matrix(fc), vector(fc.rowScales(), inner), vector(fcBias, inner),
            matrix(proj), vector(proj.rowScales(), d), vector(projBias, d)
        };
        return new DecoderBlockKernel(p, d, heads, inner, eps);
    }

    private static long matrix(Int8Matrix m) {
        return m.nativeMatrix().data_ptr().address();
    }

    private static long vector(Tensor t, long n) {
        if (t == null) {
            return 0;
        }
        if (t.scalar_type().value != ScalarType.Float.value || t.is_cuda() || !t.is_contiguous() || t.numel() != n) {
            throw new IllegalArgumentException("decoder block kernel: a contiguous fp32 CPU vector of " + n
                    + " values needed, got " + t.sizes().vec());
        }
        return t.data_ptr().address();
    }

    /**
     * Updates rows {@code [0, m)} of the residual {@code x} (at least m rows of D, contiguous fp32 CPU) in place: row
     * r is the token at position {@code pos[r]} of its sequence, whose key and value it writes at that position of its
     * layer cache ({@code k[r]}, {@code v[r]}: the addresses of contiguous (heads, capacity[r], D / heads) tensors, all
     * all of element type {@code type}; an int8 cache's row scales after its values) before attending over positions
     * {@code 0..pos[r]}.
     */
    public void step(Tensor x, int m, long[] k, long[] v, int[] capacity, int[] pos, KvType type) {
        run(x, m, 1, params, d, heads, inner, eps, scale, work, k, v, capacity, pos, type);
    }

    /**
     * Several blocks of one width run in turn as one native call ({@link #stack}): one OpenMP region for the whole
     * stack instead of one per block. The same bits as the blocks' {@link DecoderBlockKernel#step} one after another.
     */
    public static final class Stack {
        private final long[] params;
        private final DecoderBlockKernel first;
        private final int layers;

        private Stack(DecoderBlockKernel[] blocks) {
            this.first = blocks[0];
            this.layers = blocks.length;
            this.params = new long[layers * N_PARAMS];
            for (int l = 0; l < layers; l++) {
                DecoderBlockKernel b = blocks[l];
                if (b.d != first.d || b.heads != first.heads || b.inner != first.inner || b.eps != first.eps) {
                    throw new IllegalArgumentException("decoder block kernel: a stack of blocks of one shape needed");
                }
                System.arraycopy(b.params, 0, params, l * N_PARAMS, N_PARAMS);
            }
        }

        /** The number of blocks. */
        public int layers() {
            return layers;
        }

        /**
         * As {@link DecoderBlockKernel#step} through every block in turn; {@code k} and {@code v} hold each layer's
         * cache addresses for the m rows, layer after layer ({@code k[l * m + r]}).
         */
        public void step(Tensor x, int m, long[] k, long[] v, int[] capacity, int[] pos, KvType type) {
            if (k.length < (long) layers * m || v.length < (long) layers * m) {
                throw new IllegalArgumentException("decoder block kernel: " + layers + " x " + m
                        + " cache addresses needed");
            }
            run(x, m, layers, params, first.d, first.heads, first.inner, first.eps, first.scale, first.work, k, v,
                    capacity, pos, type);
        }
    }

    /** The blocks (at least one, all of one width, heads and inner width) as one {@link Stack}. */
    public static Stack stack(DecoderBlockKernel... blocks) {
        if (blocks.length == 0) {
            throw new IllegalArgumentException("decoder block kernel: a stack of at least one block needed");
        }
        return new Stack(blocks.clone());
    }

    private static final int N_PARAMS = 16;

    private static void run(Tensor x, int m, int layers, long[] params, int d, int heads, int inner, float eps,
                            float scale, long work, long[] k, long[] v, int[] capacity, int[] pos, KvType type) {
        boolean ok = type != null && m > 0 && x.dim() == 2 && x.size(0) >= m && x.size(1) == d && x.is_contiguous()
                && !x.is_cuda() && x.scalar_type().value == ScalarType.Float.value && k.length >= (long) layers * m
                && v.length >= (long) layers * m && capacity.length >= m && pos.length >= m;
        for (int r = 0; ok && r < m; r++) {
            ok = pos[r] >= 0 && pos[r] < capacity[r];
        }
        for (int i = 0; ok && i < layers * m; i++) {
            ok = k[i] != 0 && v[i] != 0;
        }
        if (!ok) {
            throw new IllegalArgumentException("decoder block kernel: x " + x.sizes().vec() + " for " + m
                    + " rows of width " + d + ", positions within their caches, needed");
        }
        int threads = work * m < MIN_SPLIT_WORK ? 1 : torch.get_num_threads();
        int rc = steps(x.data_ptr().address(), m, d, heads, inner, layers, params, eps, scale, k, v, capacity, pos,
                type.code(), Int8Kernel.isa().ordinal(), CpuAttention.pathCode(), threads);
        if (rc == -1) {
            throw new OutOfMemoryError("decoder block kernel: no memory for the activations of " + m + " rows");
        }
        if (rc == -3) {
            throw new IllegalArgumentException("decoder block kernel: a position outside its cache");
        }
        if (rc != 0) {
            throw new IllegalStateException("decoder block kernel: " + Int8Kernel.isa().label()
                    + " is not supported by this CPU");
        }
    }

    private static native int steps(long x, int m, int d, int heads, int inner, int layers, long[] params, float eps,
                                    float scale, long[] k, long[] v, int[] capacity, int[] pos, int kvType, int isa,
                                    int attPath, int threads);

    /**
     * For tests: from now on, in every step that takes one session's way (fewer rows than threads, or a batch of at
     * most three rows on two threads or more), thread {@code thread} of the team sleeps
     * {@code micros} after it has claimed its first unit of layer {@code layer}'s first feed-forward product (if it
     * claims one: the others may have done them all before it comes), as a thread the scheduler or the hypervisor
     * has taken away would; {@code thread} -1 turns it off.
     */
    static native void stallForTests(int thread, int layer, int micros);

    /**
     * For tests: how many units of one session's steps a thread has computed because another that had claimed them
     * had not finished them in time, since the library was loaded.
     */
    static native long recomputedUnits();

    /** For tests: how many times a thread has slept for {@link #stallForTests} since the library was loaded. */
    static native long stallsForTests();
}
