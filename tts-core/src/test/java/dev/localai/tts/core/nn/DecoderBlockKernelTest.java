package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.testing.KvRows;
import dev.localai.tts.core.testing.SystemProperties;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native GPT-2 block decode step ({@link DecoderBlockKernel}) against the same block as LibTorch operations
 * between the native int8 product and decode attention, over widths that take the attention's AVX-512 (heads of 64)
 * and other paths, cache positions from 0 to past 500, batches of rows at different positions, and seeds; and the
 * bitwise properties the engine relies on (thread count, batching, instruction set).
 */
class DecoderBlockKernelTest {
    private static final double EPS = 1e-5;

    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(DecoderBlockKernel.available(), "the native kernels are not loaded here");
    }

    /** One random block: its layer norms, int8 matrices and biases, and the kernel over them. */
    private record Block(Weights owner, LayerNorm ln1, Int8Matrix qkv, Tensor qkvB, Int8Matrix attn, Tensor attnB,
                         LayerNorm ln2, Int8Matrix fc, Tensor fcB, Int8Matrix proj, Tensor projB, int d, int heads,
                         DecoderBlockKernel kernel) implements AutoCloseable {
        static Block random(long seed, int d, int heads) {
            Weights w = new Weights();
            ParamSource p = w.track(new RandomParams(seed));
            int inner = 4 * d;
            LayerNorm ln1 = new LayerNorm(p.sub("ln_1"), d, EPS);
            Int8Matrix qkv = Int8Matrix.quantize(p.take("c_attn.weight", 3L * d, d), w, Int8Matrix.Kernel.NATIVE);
            Tensor qkvB = p.take("c_attn.bias", 3L * d);
            Int8Matrix attn = Int8Matrix.quantize(p.take("c_proj.weight", d, d), w, Int8Matrix.Kernel.NATIVE);
            Tensor attnB = p.take("c_proj.bias", d);
            LayerNorm ln2 = new LayerNorm(p.sub("ln_2"), d, EPS);
            Int8Matrix fc = Int8Matrix.quantize(p.take("fc.weight", inner, d), w, Int8Matrix.Kernel.NATIVE);
            Tensor fcB = p.take("fc.bias", inner);
            Int8Matrix proj = Int8Matrix.quantize(p.take("proj.weight", d, inner), w, Int8Matrix.Kernel.NATIVE);
            Tensor projB = p.take("proj.bias", d);
            DecoderBlockKernel k = DecoderBlockKernel.of(ln1, qkv, qkvB, attn, attnB, ln2, fc, fcB, proj, projB,
                    heads, EPS);
            return new Block(w, ln1, qkv, qkvB, attn, attnB, ln2, fc, fcB, proj, projB, d, heads, k);
        }

        /** The same step as LibTorch operations between the native kernels, one row: x (d) updated in place. */
        void reference(Tensor x, Tensor k, Tensor v, int pos) {
            int hd = d / heads;
            Tensor h = ln1.forward(x.view(1, d));
            Tensor q3 = torch.empty(1, 3L * d);
            qkv.forwardRows(h, qkvB, q3);
            Tensor row = q3.view(3L * d);
            k.select(1, pos).copy_(row.narrow(0, d, d).view(heads, hd));
            v.select(1, pos).copy_(row.narrow(0, 2L * d, d).view(heads, hd));
            Tensor a = torch.empty(heads, hd);
            CpuAttention.oneQuery(row.narrow(0, 0, d).view(heads, 1, hd), k.narrow(1, 0, pos + 1),
                    v.narrow(1, 0, pos + 1), pos + 1, 1.0 / Math.sqrt(hd), a);
            Tensor o = torch.empty(1, d);
            attn.forwardRows(a.view(1, d), attnB, o);
            x.add_(o.view(d));
            Tensor h2 = ln2.forward(x.view(1, d));
            Tensor in = torch.empty(1, 4L * d);
            fc.forwardRows(h2, fcB, in);
            torch.gelu_(in, "tanh");
            proj.forwardRows(in, projB, o);
            x.add_(o.view(d));
        }

        @Override
        public void close() {
            owner.close();
        }
    }

    private static Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
    }

    /** A layer cache (heads, capacity, d / heads) with its first {@code filled} rows random and the rest NaN. */
    private static Tensor cache(Generator g, int heads, int capacity, int hd, int filled) {
        Tensor c = randn(g, heads, capacity, hd);
        if (filled < capacity) {
            c.narrow(1, filled, capacity - filled).fill_(new Scalar(Float.NaN));
        }
        return c;
    }

    /**
     * The cache c (fp32, NaN past its filled rows) in {@code type}; for {@code Char} in {@link KvType#INT8}'s layout:
     * the (heads, capacity, hd) int8 view returned, its storage going on with the (heads, capacity) row scales (those
     * of the NaN rows NaN, their values 0), each row quantized by the plain-Java reference ({@link KvRows}).
     */
    private static Tensor asCache(Tensor c, ScalarType type) {
        if (type != ScalarType.Char) {
            return c.to(type);
        }
        int heads = (int) c.size(0);
        int cap = (int) c.size(1);
        int hd = (int) c.size(2);
        float[] x = floats(c);
        byte[] q = new byte[x.length];
        float[] sc = new float[heads * cap];
        for (int r = 0; r < heads * cap; r++) {
            sc[r] = KvRows.quantize(x, r * hd, hd, q);
        }
        Tensor layer = torch.empty(new long[] {KvType.INT8.layerBytes((long) heads * cap, hd)},
                new TensorOptions(ScalarType.Char), null);
        Tensor values = KvType.int8Values(layer, heads, cap, hd);
        values.data_ptr_char().put(q);
        KvType.int8Scales(layer, heads, cap, hd).data_ptr_float().put(sc);
        return values;
    }

    /** The whole allocation of an int8 cache layer (its values and its row scales), seen from its values' view. */
    private static Tensor layerOf(Tensor values) {
        return values.as_strided(new long[] {KvType.INT8.layerBytes(values.size(0) * values.size(1), values.size(2))},
                1L);
    }

    /** An int8 cache's row scales (heads, capacity): a view of the storage after its values. */
    private static Tensor scales(Tensor values) {
        return KvType.int8Scales(layerOf(values), values.size(0), values.size(1), values.size(2));
    }

    /** A copy of a cache made by {@link #asCache} (an int8 one's scales included). */
    private static Tensor copyOf(Tensor t) {
        return t.scalar_type().value != ScalarType.Char.value ? t.clone()
                : KvType.int8Values(layerOf(t).clone(), t.size(0), t.size(1), t.size(2));
    }

    private static KvType typeOf(Tensor cache) {
        int t = cache.scalar_type().value;
        return t == ScalarType.Half.value ? KvType.FP16 : t == ScalarType.Char.value ? KvType.INT8 : KvType.FP32;
    }

    /** Whether row {@code pos} of the cache was written: finite values, or for int8 a finite row scale. */
    private static boolean written(Tensor cache, int pos) {
        Tensor row = cache.scalar_type().value == ScalarType.Char.value ? scales(cache).select(1, pos)
                : cache.select(1, pos);
        return torch.isfinite(row).all().item_bool();
    }

    private static ScalarType scalarType(KvType type) {
        return switch (type) {
            case FP32 -> ScalarType.Float;
            case FP16 -> ScalarType.Half;
            case INT8 -> ScalarType.Char;
        };
    }

    private static float[] floats(Tensor t) {
        Tensor c = t.contiguous();
        float[] a = new float[(int) c.numel()];
        c.data_ptr_float().get(a);
        return a;
    }

    private static double relL2(Tensor got, Tensor ref) {
        return got.sub(ref).norm().item_double() / ref.norm().item_double();
    }

    private static void run(Block b, Tensor x, int m, Tensor[] k, Tensor[] v, int[] pos) {
        long[] ka = new long[m];
        long[] va = new long[m];
        int[] cap = new int[m];
        for (int r = 0; r < m; r++) {
            ka[r] = k[r].data_ptr().address();
            va[r] = v[r].data_ptr().address();
            cap[r] = (int) k[r].size(1);
        }
        b.kernel().step(x, m, ka, va, cap, pos, typeOf(k[0]));
    }

    @Test
    void matchesTheBlockAsLibTorchOperationsBetweenTheNativeKernels() {
        int[][] shapes = {{1024, 16}, {256, 4}, {96, 8}, {80, 2}};
        double worst = 0;
        for (int seed = 1; seed <= 2; seed++) {
            for (int[] s : shapes) {
                try (Block b = Block.random(seed * 31L + s[0], s[0], s[1]); PointerScope scope = new PointerScope()) {
                    assertThat(b.kernel()).isNotNull();
                    int hd = s[0] / s[1];
                    for (int pos : new int[] {0, 1, 37, 501}) {
                        Generator g = torch.createCPUGenerator(seed * 7L + pos);
                        Tensor x = randn(g, 1, s[0]).mul_(new Scalar(2.0));
                        Tensor k = cache(g, s[1], pos + 9, hd, pos);
                        Tensor v = cache(g, s[1], pos + 9, hd, pos);
                        Tensor xr = x.clone().view(s[0]);
                        Tensor kr = k.clone();
                        Tensor vr = v.clone();
                        b.reference(xr, kr, vr, pos);
                        run(b, x, 1, new Tensor[] {k}, new Tensor[] {v}, new int[] {pos});
                        assertThat(torch.isfinite(x).all().item_bool()).isTrue();
                        // the new key and value rows are the product's outputs: within the same bound
                        double err = Math.max(relL2(x.view(s[0]), xr),
                                Math.max(relL2(k.select(1, pos), kr.select(1, pos)),
                                        relL2(v.select(1, pos), vr.select(1, pos))));
                        worst = Math.max(worst, err);
                        // rows before pos are left as they were; rows after it are not written
                        assertThat(torch.equal(k.narrow(1, 0, pos), kr.narrow(1, 0, pos))).isTrue();
                        assertThat(torch.isnan(k.narrow(1, pos + 1, 8)).all().item_bool()).isTrue();
                    }
                }
            }
        }
        System.out.printf("decoder block kernel vs LibTorch operations between the native kernels: worst rel L2 %.3g%n",
                worst);
        // the two differ by the layer norms' and the GELU's rounding, which an 8-bit input quantization turns into at
        // most a step (1/127 of a row's largest value) of a few inputs: far below int8's own error (about 1e-2)
        assertThat(worst).isLessThan(2e-3);
    }

    @Test
    void anFp16CacheGetsTheKeyAndValueRoundedToNearestAndIsAttendedAsItHoldsThem() {
        double worst = 0;
        for (int[] s : new int[][] {{1024, 16}, {96, 8}, {80, 2}}) {
            try (Block b = Block.random(17L + s[0], s[0], s[1]); PointerScope scope = new PointerScope()) {
                int hd = s[0] / s[1];
                for (int pos : new int[] {0, 5, 300}) {
                    Generator g = torch.createCPUGenerator(pos + 3L);
                    Tensor x = randn(g, 1, s[0]).mul_(new Scalar(2.0));
                    Tensor k = cache(g, s[1], pos + 4, hd, pos).to(ScalarType.Half);
                    Tensor v = cache(g, s[1], pos + 4, hd, pos).to(ScalarType.Half);
                    // the reference: fp32 caches holding the same values, its new row exact
                    Tensor xr = x.clone().view(s[0]);
                    Tensor kr = k.to(ScalarType.Float);
                    Tensor vr = v.to(ScalarType.Float);
                    b.reference(xr, kr, vr, pos);
                    // the kernel's own new key and value before rounding: the same step on fp32 caches (its products
                    // and layer norm give the same bits whatever the cache; LibTorch's layer norm in the reference
                    // sums in another order on each dispatch path, so its row may differ by a quantization step)
                    Tensor kf = k.to(ScalarType.Float);
                    Tensor vf = v.to(ScalarType.Float);
                    run(b, x.clone(), 1, new Tensor[] {kf}, new Tensor[] {vf}, new int[] {pos});
                    run(b, x, 1, new Tensor[] {k}, new Tensor[] {v}, new int[] {pos});
                    // LibTorch's fp32 -> fp16 conversion rounds to nearest even too: the same bits
                    assertThat(torch.equal(k.select(1, pos), kf.select(1, pos).to(ScalarType.Half))).isTrue();
                    assertThat(torch.equal(v.select(1, pos), vf.select(1, pos).to(ScalarType.Half))).isTrue();
                    assertThat(torch.equal(k.narrow(1, 0, pos), kr.narrow(1, 0, pos).to(ScalarType.Half))).isTrue();
                    assertThat(torch.isfinite(x).all().item_bool()).isTrue();
                    worst = Math.max(worst, relL2(x.view(s[0]), xr));
                }
            }
        }
        System.out.printf("decoder block kernel, fp16 cache vs fp32 reference: worst rel L2 %.3g%n", worst);
        // only the new key and value differ (2^-11 relative at most), but the products quantize their inputs to 8
        // bits, which turns a difference that small into whole quantization steps of the values near a rounding
        // boundary: of the order of int8's own error (about 1e-2 per product), not of fp16's
        assertThat(worst).isGreaterThan(0).isLessThan(1e-2);
    }

    /**
     * An int8 cache gets the new key and value quantized per head row with the bits of the plain-Java reference
     * ({@link KvRows}, which {@code KvCacheTest} holds {@code model.t3.KvCache}'s LibTorch form to): the kernel's own
     * new row, taken from the same step on fp32 caches and quantized by the reference, equals what the kernel wrote,
     * values and scale; earlier rows are not touched; and the step's output stays within the int8 products' own error
     * of the fp32-cache step.
     */
    @Test
    void anInt8CacheGetsEachHeadRowQuantizedAsTheLibTorchFormDoes() {
        double worst = 0;
        for (int[] s : new int[][] {{1024, 16}, {96, 8}, {80, 2}}) {
            try (Block b = Block.random(19L + s[0], s[0], s[1]); PointerScope scope = new PointerScope()) {
                int hd = s[0] / s[1];
                for (int pos : new int[] {0, 5, 300}) {
                    Generator g = torch.createCPUGenerator(pos + 5L);
                    Tensor x = randn(g, 1, s[0]).mul_(new Scalar(2.0));
                    Tensor k32 = cache(g, s[1], pos + 4, hd, pos);
                    Tensor v32 = cache(g, s[1], pos + 4, hd, pos);
                    Tensor k = asCache(k32, ScalarType.Char);
                    Tensor v = asCache(v32, ScalarType.Char);
                    Tensor kBefore = copyOf(k);
                    // the same step's new rows in fp32, over caches holding the int8 cache's dequantized values
                    Tensor kf = k.to(ScalarType.Float).mul_(scales(k).unsqueeze(-1));
                    Tensor vf = v.to(ScalarType.Float).mul_(scales(v).unsqueeze(-1));
                    Tensor xf = x.clone();
                    run(b, xf, 1, new Tensor[] {kf}, new Tensor[] {vf}, new int[] {pos});
                    run(b, x, 1, new Tensor[] {k}, new Tensor[] {v}, new int[] {pos});
                    Tensor kq = asCache(kf.narrow(1, pos, 1).contiguous(), ScalarType.Char);
                    Tensor vq = asCache(vf.narrow(1, pos, 1).contiguous(), ScalarType.Char);
                    assertThat(torch.equal(k.select(1, pos), kq.select(1, 0))).as("key, pos %d", pos).isTrue();
                    assertThat(torch.equal(v.select(1, pos), vq.select(1, 0))).as("value, pos %d", pos).isTrue();
                    assertThat(torch.equal(scales(k).select(1, pos), scales(kq).select(1, 0))).isTrue();
                    assertThat(torch.equal(scales(v).select(1, pos), scales(vq).select(1, 0))).isTrue();
                    assertThat(torch.equal(k.narrow(1, 0, pos), kBefore.narrow(1, 0, pos))).isTrue();
                    assertThat(torch.equal(scales(k).narrow(1, 0, pos), scales(kBefore).narrow(1, 0, pos))).isTrue();
                    assertThat(torch.isfinite(x).all().item_bool()).isTrue();
                    worst = Math.max(worst, relL2(x.view(s[0]), xf.view(s[0])));
                }
            }
        }
        System.out.printf("decoder block kernel, int8 cache vs fp32 caches of its values: worst rel L2 %.3g%n", worst);
        // only the new row's rounding differs (half a step of its max / 127), which the 8-bit inputs of the products
        // turn into whole quantization steps near a rounding boundary, as for fp16 (7.0e-3 on the AMD EPYC Zen 5 VM,
        // fp16's 3.4e-3): of the order of int8's own error (about 1e-2 per product)
        assertThat(worst).isGreaterThan(0).isLessThan(2e-2);
    }

    @Test
    void anFp16CacheSaturatesValuesBeyondItsRange() {
        int d = 64;
        try (Block b = Block.random(4, d, 2); PointerScope scope = new PointerScope()) {
            b.qkvB().narrow(0, d, d).fill_(new Scalar(1e6));
            b.qkvB().narrow(0, 2L * d, 16).fill_(new Scalar(-3e5));
            Generator g = torch.createCPUGenerator(8);
            Tensor x = randn(g, 1, d);
            Tensor k = cache(g, 2, 6, 32, 3).to(ScalarType.Half);
            Tensor v = cache(g, 2, 6, 32, 3).to(ScalarType.Half);
            run(b, x, 1, new Tensor[] {k}, new Tensor[] {v}, new int[] {3});
            Tensor row = k.select(1, 3).to(ScalarType.Float);
            assertThat(torch.equal(row, torch.full(new long[] {2, 32}, new Scalar(65504.0)))).isTrue();
            assertThat(v.select(1, 3).select(0, 0).narrow(0, 0, 16).to(ScalarType.Float).eq(new Scalar(-65504.0))
                    .all().item_bool()).isTrue();
            assertThat(torch.isfinite(x).all().item_bool()).isTrue();
        }
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0} cache")
    @org.junit.jupiter.params.provider.EnumSource(KvType.class)
    void givesTheSameBitsOnAnyThreadCountAndForARowInABatchAsAlone(KvType cacheType) {
        int d = 256;
        int heads = 4;
        int hd = d / heads;
        int[] pos = {3, 120, 0, 57};
        int m = pos.length;
        int before = torch.get_num_threads();
        try (Block b = Block.random(5, d, heads); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(11);
            Tensor x0 = randn(g, m, d);
            Tensor[] k0 = new Tensor[m];
            Tensor[] v0 = new Tensor[m];
            ScalarType type = scalarType(cacheType);
            for (int r = 0; r < m; r++) {
                k0[r] = asCache(cache(g, heads, pos[r] + 1 + r, hd, pos[r]), type);
                v0[r] = asCache(cache(g, heads, pos[r] + 1 + r, hd, pos[r]), type);
            }
            float[] batched = null;
            for (int threads : new int[] {1, 2, 3, 16}) {
                torch.set_num_threads(threads);
                for (int rep = 0; rep < 3; rep++) {
                    Tensor x = x0.clone();
                    Tensor[] k = clones(k0);
                    Tensor[] v = clones(v0);
                    run(b, x, m, k, v, pos);
                    float[] got = floats(x);
                    if (batched == null) {
                        batched = got;
                    }
                    assertThat(got).as("%d threads, run %d", threads, rep).containsExactly(batched);
                }
            }
            torch.set_num_threads(before);
            for (int r = 0; r < m; r++) {
                Tensor x = x0.narrow(0, r, 1).clone();
                run(b, x, 1, new Tensor[] {copyOf(k0[r])}, new Tensor[] {copyOf(v0[r])}, new int[] {pos[r]});
                assertThat(floats(x)).as("row %d alone", r)
                        .containsExactly(Arrays.copyOfRange(batched, r * d, (r + 1) * d));
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    /**
     * At GPT-2 medium's widths every phase is many units (the query/key/value product 24, the output projection 32,
     * the attention 16 per row), so the threads' fixed shares and the claimed tail both carry work, and which thread
     * claims which tail unit changes from run to run: the bits must not.
     */
    @Test
    void atGpt2MediumWidthsWhoeverClaimsATailUnitTheBitsAreTheSame() {
        int d = 1024;
        int heads = 16;
        int hd = d / heads;
        int[] pos = {200, 7, 450};
        int before = torch.get_num_threads();
        try (Block b = Block.random(9, d, heads); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(13);
            for (int m = 1; m <= pos.length; m += 2) {
                Tensor x0 = randn(g, m, d);
                Tensor[] k0 = new Tensor[m];
                Tensor[] v0 = new Tensor[m];
                for (int r = 0; r < m; r++) {
                    k0[r] = cache(g, heads, pos[r] + 1, hd, pos[r]).to(ScalarType.Half);
                    v0[r] = cache(g, heads, pos[r] + 1, hd, pos[r]).to(ScalarType.Half);
                }
                float[] expected = null;
                for (int threads : new int[] {1, 2, 3}) {
                    torch.set_num_threads(threads);
                    for (int rep = 0; rep < 4; rep++) {
                        Tensor x = x0.clone();
                        run(b, x, m, clones(k0), clones(v0), Arrays.copyOf(pos, m));
                        float[] got = floats(x);
                        if (expected == null) {
                            expected = got;
                        }
                        assertThat(got).as("%d rows, %d threads, run %d", m, threads, rep).containsExactly(expected);
                    }
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    /**
     * A stack of blocks in one call gives the bits of its blocks called one after another, on any thread count and
     * for any number of rows: with fewer rows than threads every thread does the row work on its own copy of the
     * rows (one session's step), otherwise the threads divide the rows; both must equal the one-thread run.
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} cache")
    @org.junit.jupiter.params.provider.EnumSource(KvType.class)
    void aStackGivesTheBitsOfItsBlocksInTurnOnAnyThreadCount(KvType cacheType) {
        int d = 256;
        int heads = 4;
        int layers = 3;
        int before = torch.get_num_threads();
        Block[] blocks = new Block[layers];
        try (PointerScope scope = new PointerScope()) {
            DecoderBlockKernel.Stack stack = randomStack(blocks, 21, d, heads);
            assertThat(stack.layers()).isEqualTo(layers);
            ScalarType type = scalarType(cacheType);
            for (int m = 1; m <= 3; m++) {
                Rows rows = Rows.random(31 + m, m, d, heads, layers, 5, 40, 2, type);
                torch.set_num_threads(1);
                Tensor xr = rows.x0().clone();
                for (int l = 0; l < layers; l++) {
                    run(blocks[l], xr, m, clones(rows.k0()[l]), clones(rows.v0()[l]), rows.pos());
                }
                float[] expected = floats(xr);
                for (int threads : new int[] {1, 2, 3, 4}) {
                    torch.set_num_threads(threads);
                    for (int rep = 0; rep < 3; rep++) {
                        assertThat(rows.step(stack)).as("%d rows, %d threads, run %d", m, threads, rep)
                                .containsExactly(expected);
                    }
                }
            }
        } finally {
            closeAll(blocks, before);
        }
    }

    /**
     * One session's step, and a batch of two or three rows, when a thread of its team is taken away in the middle (the
     * test hook sleeps it 200 ms after it has claimed its first unit of the middle layer's feed-forward product, as a
     * thread the scheduler descheduled or whose vCPU the hypervisor took would be): the others compute the unit it had
     * claimed ({@code recomputedUnits} counts it) and finish the step without it, and the bits are the one-thread
     * run's, whichever thread it is, in every run (those where the thread came too late to claim a unit included).
     * When it is the caller's own thread (0), it comes back to a step the others have finished and only brings its
     * rows up to date before writing them back. A batch of up to three rows takes that way on two threads too (two or
     * three requests at once on a 2-core machine), where it used to wait at barriers for the thread taken away. GPT-2
     * medium widths, so every thread has units of its own.
     */
    @Test
    @org.junit.jupiter.api.Timeout(240)
    void aThreadTakenAwayMidStepHasItsUnitDoneByTheOthersAndChangesNoBit() {
        int d = 1024;
        int heads = 16;
        int layers = 3;
        int before = torch.get_num_threads();
        Block[] blocks = new Block[layers];
        try (PointerScope scope = new PointerScope()) {
            DecoderBlockKernel.Stack stack = randomStack(blocks, 51, d, heads);
            for (int m = 1; m <= 3; m++) {
                Rows rows = Rows.random(61 + m, m, d, heads, layers, 37, 11, 3, ScalarType.Char); // the default cache
                torch.set_num_threads(1);
                float[] expected = rows.step(stack);
                for (int threads : new int[] {2, 3}) {
                    torch.set_num_threads(threads);
                    for (int stalled = 0; stalled < threads; stalled++) {
                        // a thread that comes to the phase after the others have done it claims nothing and is not
                        // stalled (more threads than CPUs, a busy machine): run until it has been stalled twice
                        int taken = 0;
                        for (int rep = 0; taken < 2; rep++) {
                            assertThat(rep).as("runs before thread %d of %d claimed a unit twice (%d rows)", stalled,
                                    threads, m).isLessThan(40);
                            long recomputed = DecoderBlockKernel.recomputedUnits();
                            long stalls = DecoderBlockKernel.stallsForTests();
                            float[] got = rows.stepWithAStall(stack, stalled, 1, 200_000);
                            assertThat(got).as("%d rows, %d threads, thread %d taken away, run %d", m, threads,
                                    stalled, rep).containsExactly(expected);
                            if (DecoderBlockKernel.stallsForTests() > stalls) {
                                taken++;
                                assertThat(DecoderBlockKernel.recomputedUnits())
                                        .as("units the others computed for thread %d of %d (%d rows)", stalled,
                                                threads, m)
                                        .isGreaterThan(recomputed);
                            }
                        }
                    }
                    assertThat(rows.step(stack)).as("%d rows, %d threads, none taken away", m,
                            threads).containsExactly(expected);
                }
            }
        } finally {
            closeAll(blocks, before);
        }
    }

    /**
     * Where the rule puts a batch on two threads: three rows take one session's way (its test hook, which stalls a
     * thread in that way, fires), four divide the rows' work and meet at barriers (the hook never fires); the bits are
     * the one-thread run's either way.
     */
    @Test
    void onTwoThreadsABatchOfThreeRowsTakesTheNoBarrierWayAndOfFourKeepsItsBarriers() {
        int d = 1024;
        int heads = 16;
        int layers = 2;
        int before = torch.get_num_threads();
        Block[] blocks = new Block[layers];
        try (PointerScope scope = new PointerScope()) {
            DecoderBlockKernel.Stack stack = randomStack(blocks, 71, d, heads);
            for (int m = 3; m <= 4; m++) {
                Rows rows = Rows.random(81 + m, m, d, heads, layers, 9, 5, 1, ScalarType.Char);
                torch.set_num_threads(1);
                float[] expected = rows.step(stack);
                torch.set_num_threads(2);
                long stalls = DecoderBlockKernel.stallsForTests();
                // thread 1 (not the caller's) has its even share of the feed-forward product's units at these widths;
                // on a busy machine it may come to the phase after the caller has done it all, so up to 20 runs
                for (int rep = 0; rep < (m == 3 ? 20 : 3) && DecoderBlockKernel.stallsForTests() == stalls; rep++) {
                    float[] got = rows.stepWithAStall(stack, 1, 1, 1000);
                    assertThat(got).as("%d rows, run %d", m, rep).containsExactly(expected);
                }
                if (m == 3) {
                    assertThat(DecoderBlockKernel.stallsForTests()).as("3 rows: stalls in the no-barrier way")
                            .isGreaterThan(stalls);
                } else {
                    assertThat(DecoderBlockKernel.stallsForTests()).as("4 rows: stalls in the no-barrier way")
                            .isEqualTo(stalls);
                }
            }
        } finally {
            closeAll(blocks, before);
        }
    }

    /**
     * m rows (m, d) with caches of {@code layers} layers in {@code type} (fp32, fp16 or int8): row r at position pos0 +
     * r * posStep, its caches {@code spare} positions longer, random values (generator seed {@code seed}) before it.
     */
    private record Rows(Tensor x0, int[] pos, Tensor[][] k0, Tensor[][] v0) {
        static Rows random(long seed, int m, int d, int heads, int layers, int pos0, int posStep, int spare,
                ScalarType type) {
            Generator g = torch.createCPUGenerator(seed);
            int hd = d / heads;
            Tensor x0 = randn(g, m, d);
            int[] pos = new int[m];
            Tensor[][] k0 = new Tensor[layers][m];
            Tensor[][] v0 = new Tensor[layers][m];
            for (int r = 0; r < m; r++) {
                pos[r] = pos0 + posStep * r;
                for (int l = 0; l < layers; l++) {
                    k0[l][r] = asCache(cache(g, heads, pos[r] + spare, hd, pos[r]), type);
                    v0[l][r] = asCache(cache(g, heads, pos[r] + spare, hd, pos[r]), type);
                }
            }
            return new Rows(x0, pos, k0, v0);
        }

        /**
         * {@link #step}, thread {@code thread} of the team stalled {@code micros} in layer {@code layer} by the kernel's
         * test hook (turned off again after the step).
         */
        float[] stepWithAStall(DecoderBlockKernel.Stack stack, int thread, int layer, int micros) {
            DecoderBlockKernel.stallForTests(thread, layer, micros);
            try {
                return step(stack);
            } finally {
                DecoderBlockKernel.stallForTests(-1, 0, 0);
            }
        }

        /** The rows through the stack from x0, on fresh copies of each row's caches; the rows after it. */
        float[] step(DecoderBlockKernel.Stack stack) {
            int m = pos.length;
            int layers = k0.length;
            Tensor x = x0.clone();
            long[] ka = new long[layers * m];
            long[] va = new long[layers * m];
            Tensor[][] k = new Tensor[layers][];
            Tensor[][] v = new Tensor[layers][];
            int[] cap = new int[m];
            for (int l = 0; l < layers; l++) {
                k[l] = clones(k0[l]);
                v[l] = clones(v0[l]);
                for (int r = 0; r < m; r++) {
                    ka[l * m + r] = k[l][r].data_ptr().address();
                    va[l * m + r] = v[l][r].data_ptr().address();
                    cap[r] = (int) k[l][r].size(1);
                }
            }
            stack.step(x, m, ka, va, cap, pos, typeOf(k0[0][0]));
            for (int l = 0; l < layers; l++) {
                for (int r = 0; r < m; r++) {
                    assertThat(written(k[l][r], pos[r])).as("layer %d's key of row %d written", l, r).isTrue();
                    assertThat(written(v[l][r], pos[r])).as("layer %d's value of row %d written", l, r).isTrue();
                }
            }
            return floats(x);
        }
    }

    /**
     * Closes the blocks made so far, turns the kernel's stall hook off (in case a step failed before it could) and puts
     * LibTorch's thread count back to {@code threads}.
     */
    private static void closeAll(Block[] blocks, int threads) {
        DecoderBlockKernel.stallForTests(-1, 0, 0);
        torch.set_num_threads(threads);
        for (Block b : blocks) {
            if (b != null) {
                b.close();
            }
        }
    }

    /** blocks.length random blocks (seeds seed, seed + 1, ...) into {@code blocks}, as one stack. */
    private static DecoderBlockKernel.Stack randomStack(Block[] blocks, long seed, int d, int heads) {
        for (int l = 0; l < blocks.length; l++) {
            blocks[l] = Block.random(seed + l, d, heads);
        }
        return DecoderBlockKernel.stack(Arrays.stream(blocks).map(Block::kernel).toArray(DecoderBlockKernel[]::new));
    }

    private static Tensor[] clones(Tensor[] ts) {
        return Arrays.stream(ts).map(DecoderBlockKernelTest::copyOf).toArray(Tensor[]::new);
    }

    /**
     * The phases' barrier (tts_barrier_wait: spins, then sleeps on a futex, its spin budget adapting) under more
     * threads than CPUs and beside another thread's parallel work, where waits outlast the spin and end in a sleep
     * and a wake: every run gives the one-thread bits, and none hangs (a lost wake would).
     */
    @Test
    @org.junit.jupiter.api.Timeout(120)
    void theBarrierHoldsWithMoreThreadsThanCpusAndBesideOtherWork() throws Exception {
        int d = 256;
        int heads = 4;
        int[] pos = {7, 90};
        int m = pos.length;
        int before = torch.get_num_threads();
        java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        Thread busy = new Thread(() -> {
            try (PointerScope scope = new PointerScope()) {
                Tensor t = torch.ones(1 << 21);
                while (!stop.get()) {
                    t.mul_(new Scalar(1.0)); // parallel LibTorch work on its own OpenMP pool
                }
            }
        }, "barrier-busy");
        try (Block b = Block.random(9, d, heads); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(13);
            Tensor x0 = randn(g, m, d);
            Tensor[] k0 = new Tensor[m];
            Tensor[] v0 = new Tensor[m];
            for (int r = 0; r < m; r++) {
                k0[r] = cache(g, heads, pos[r] + 1, d / heads, pos[r]).to(ScalarType.Half);
                v0[r] = cache(g, heads, pos[r] + 1, d / heads, pos[r]).to(ScalarType.Half);
            }
            torch.set_num_threads(1);
            float[] expected = step(b, x0, k0, v0, pos);
            busy.start();
            for (int threads : new int[] {2, 4, 2, 5}) {
                torch.set_num_threads(threads);
                for (int rep = 0; rep < 40; rep++) {
                    assertThat(step(b, x0, k0, v0, pos)).as("%d threads, run %d", threads, rep)
                            .containsExactly(expected);
                }
            }
        } finally {
            stop.set(true);
            busy.join();
            torch.set_num_threads(before);
        }
    }

    private static float[] step(Block b, Tensor x0, Tensor[] k0, Tensor[] v0, int[] pos) {
        Tensor x = x0.clone();
        Tensor[] k = Arrays.stream(k0).map(Tensor::clone).toArray(Tensor[]::new);
        Tensor[] v = Arrays.stream(v0).map(Tensor::clone).toArray(Tensor[]::new);
        run(b, x, pos.length, k, v, pos);
        return floats(x);
    }

    @Test
    void everyInt8InstructionSetGivesTheSameBits() {
        int d = 128;
        String fixed = System.getProperty("localai.tts.int8Isa");
        try (Block b = Block.random(9, d, 2); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(3);
            Tensor x0 = randn(g, 2, d);
            Tensor k0 = cache(g, 2, 40, 64, 30);
            Tensor v0 = cache(g, 2, 40, 64, 30);
            float[] first = null;
            for (Int8Kernel.Isa isa : Int8Kernel.Isa.values()) {
                if (!Int8Kernel.runs(isa)) {
                    continue;
                }
                System.setProperty("localai.tts.int8Isa", isa.label());
                assertThat(Int8Kernel.isa()).isEqualTo(isa);
                Tensor x = x0.clone();
                run(b, x, 2, new Tensor[] {k0.clone(), k0.clone()}, new Tensor[] {v0.clone(), v0.clone()},
                        new int[] {30, 12});
                float[] got = floats(x);
                if (first == null) {
                    first = got;
                }
                assertThat(got).as(isa.label()).containsExactly(first);
            }
        } finally {
            SystemProperties.restore("localai.tts.int8Isa", fixed);
        }
    }

    @Test
    void aNonFiniteRowSpoilsOnlyItself() {
        int d = 96;
        try (Block b = Block.random(2, d, 8); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(4);
            Tensor x = randn(g, 2, d);
            x.select(0, 0).select(0, 5).fill_(new Scalar(Float.POSITIVE_INFINITY));
            Tensor clean = x.narrow(0, 1, 1).clone();
            Tensor k = cache(g, 8, 10, 12, 4);
            Tensor v = cache(g, 8, 10, 12, 4);
            Tensor k2 = k.clone();
            Tensor v2 = v.clone();
            Tensor k3 = k.clone();
            Tensor v3 = v.clone();
            run(b, x, 2, new Tensor[] {k, k2}, new Tensor[] {v, v2}, new int[] {4, 4});
            assertThat(torch.isfinite(x.select(0, 0)).any().item_bool()).isFalse();
            run(b, clean, 1, new Tensor[] {k3}, new Tensor[] {v3}, new int[] {4});
            assertThat(floats(x.select(0, 1))).containsExactly(floats(clean));
        }
    }

    @Test
    void refusesPositionsOutsideTheCacheAndWrongShapes() {
        try (Block b = Block.random(1, 64, 4); PointerScope scope = new PointerScope()) {
            Tensor x = torch.zeros(1, 64);
            Tensor k = torch.zeros(4, 8, 16);
            Tensor v = torch.zeros(4, 8, 16);
            assertThatThrownBy(() -> run(b, x, 1, new Tensor[] {k}, new Tensor[] {v}, new int[] {8}))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> run(b, x, 1, new Tensor[] {k}, new Tensor[] {v}, new int[] {-1}))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> run(b, torch.zeros(1, 32), 1, new Tensor[] {k}, new Tensor[] {v},
                    new int[] {0})).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> run(b, x, 2, new Tensor[] {k, k}, new Tensor[] {v, v}, new int[] {0, 0}))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void isNotMadeForMatricesOnFbgemm() {
        assumeTrue(Int8Matrix.supported(), "FBGEMM does not run here");
        try (Weights w = new Weights(); PointerScope scope = new PointerScope()) {
            ParamSource p = w.track(new RandomParams(1));
            int d = 64;
            LayerNorm ln = new LayerNorm(p.sub("ln"), d, EPS);
            Int8Matrix fb = Int8Matrix.quantize(p.take("a", 3L * d, d), w, Int8Matrix.Kernel.FBGEMM);
            Int8Matrix n1 = Int8Matrix.quantize(p.take("b", d, d), w, Int8Matrix.Kernel.NATIVE);
            Int8Matrix n2 = Int8Matrix.quantize(p.take("c", 4L * d, d), w, Int8Matrix.Kernel.NATIVE);
            Int8Matrix n3 = Int8Matrix.quantize(p.take("e", d, 4L * d), w, Int8Matrix.Kernel.NATIVE);
            assertThat(DecoderBlockKernel.of(ln, fb, null, n1, null, ln, n2, null, n3, null, 4, EPS)).isNull();
        }
    }
}
