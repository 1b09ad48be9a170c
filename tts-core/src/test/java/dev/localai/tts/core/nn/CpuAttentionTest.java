package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
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
 * The native decode attention ({@link CpuAttention}) against a double-precision rendering of
 * softmax(q k^T * scale) v and against LibTorch's plain products, over head sizes that take each of its paths, cache
 * lengths from 1 to past 1000, caches longer than the attended length whose unused rows hold NaN, and seeds.
 */
class CpuAttentionTest {
    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(CpuAttention.available(), "the native kernels are not loaded here");
    }

    /** The prefill forms' cases: heads, head size, position of the first row, rows (each path, long and short). */
    private static final int[][] PREFILL_CASES = {{16, 64, 376, 31}, {4, 24, 0, 9}, {3, 80, 5, 1}, {8, 12, 200, 60}};

    private static Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
    }

    /** softmax(q k^T * scale) v per head in double precision: (heads, d). */
    private static Tensor reference(Tensor q, Tensor k, Tensor v, int len, double scale) {
        Tensor qd = q.to(ScalarType.Double).view(k.size(0), 1, k.size(2));
        Tensor kd = k.narrow(1, 0, len).to(ScalarType.Double);
        Tensor vd = v.narrow(1, 0, len).to(ScalarType.Double);
        Tensor s = torch.bmm(qd, kd.transpose(1, 2)).mul_(new Scalar(scale));
        return torch.bmm(torch.softmax(s, -1), vd).view(k.size(0), k.size(2));
    }

    private static double relErr(Tensor got, Tensor ref) {
        return got.to(ScalarType.Double).sub(ref).norm().item_double() / ref.norm().item_double();
    }

    @Test
    void matchesDoublePrecisionOnEveryPathAndLength() {
        int[][] shapes = {{16, 64}, {4, 24}, {3, 12}, {8, 80}};
        for (int seed = 1; seed <= 3; seed++) {
            for (int[] s : shapes) {
                for (int len : new int[] {1, 7, 500, 1001}) {
                    try (PointerScope scope = new PointerScope()) {
                        Generator g = torch.createCPUGenerator(seed * 131L + len * 7L + s[1]);
                        int rows = len + 37;
                        Tensor k = randn(g, s[0], rows, s[1]).mul_(new Scalar(3.0));
                        Tensor v = randn(g, s[0], rows, s[1]);
                        // rows past len are never read: NaN there must not reach the output
                        k.narrow(1, len, rows - len).fill_(new Scalar(Float.NaN));
                        v.narrow(1, len, rows - len).fill_(new Scalar(Float.NaN));
                        Tensor q = randn(g, s[0], 1, s[1]);
                        double scale = 1.0 / Math.sqrt(s[1]);
                        Tensor out = torch.full(new long[] {s[0], 1, s[1]}, new Scalar(Float.NaN));
                        CpuAttention.oneQuery(q, k.narrow(1, 0, len), v.narrow(1, 0, len), len, scale, out);
                        assertThat(torch.isfinite(out).all().item_bool()).isTrue();
                        Tensor ref = reference(q, k, v, len, scale);
                        assertThat(relErr(out.view(s[0], s[1]), ref))
                                .as("heads %d, d %d, len %d, seed %d, path %s", s[0], s[1], len, seed,
                                        CpuAttention.path())
                                .isLessThan(2e-6);
                        // LibTorch's plain products (T3's other form) agree to fp32 rounding
                        Tensor sc = torch.bmm(q, k.narrow(1, 0, len).transpose(1, 2)).mul_(new Scalar(scale));
                        Tensor lt = torch.bmm(torch.softmax(sc, -1), v.narrow(1, 0, len));
                        assertThat(relErr(out, lt.to(ScalarType.Double))).isLessThan(2e-6);
                    }
                }
            }
        }
    }

    /**
     * An int8 cache ({@link KvType#INT8}: int8 rows, then the (heads, capacity) fp32 row scales in the same block) read
     * by the prefill form against the double-precision causal reference over the dequantized rows (q * scale): the
     * kernel folds each row's scale into its score and its weight, so only fp32 rounding separates them. Rows past the
     * last position hold NaN scales (never read); the same bits on one thread and two.
     */
    @Test
    void anInt8CacheReadsAsItsDequantizedRows() {
        int before = torch.get_num_threads();
        try {
            for (int[] c : PREFILL_CASES) {
                int heads = c[0];
                int d = c[1];
                int from = c[2];
                int rows = c[3];
                int capacity = from + rows + 7;
                try (PointerScope scope = new PointerScope()) {
                    Generator g = torch.createCPUGenerator(11L * heads + d + from);
                    long layer = KvType.INT8.layerBytes((long) heads * capacity, d);
                    Tensor[] raw = new Tensor[2];
                    Tensor[] deq = new Tensor[2];
                    for (int i = 0; i < 2; i++) {
                        raw[i] = torch.empty(new long[] {layer}, new TensorOptions(ScalarType.Char), null);
                        Tensor q8 = KvType.int8Values(raw[i], heads, capacity, d);
                        q8.copy_(randn(g, heads, capacity, d).mul_(new Scalar(60.0)).round_()
                                .clamp_(new org.bytedeco.pytorch.ScalarOptional(new Scalar(-127.0)),
                                        new org.bytedeco.pytorch.ScalarOptional(new Scalar(127.0))));
                        Tensor scales = KvType.int8Scales(raw[i], heads, capacity, d);
                        scales.copy_(torch.rand(new long[] {heads, capacity}, new GeneratorOptional(g),
                                new TensorOptions(ScalarType.Float)).mul_(new Scalar(i == 0 ? 0.08 : 0.02)));
                        scales.narrow(1, from + rows, 7).fill_(new Scalar(Float.NaN));
                        deq[i] = q8.to(ScalarType.Float).mul_(scales.unsqueeze(-1));
                    }
                    Tensor qkv = randn(g, rows, 3L * heads * d);
                    Tensor q = qkv.narrow(1, 0, (long) heads * d);
                    double scale = 1.0 / Math.sqrt(d);
                    Tensor out = torch.full(new long[] {rows, (long) heads * d}, new Scalar(Float.NaN));
                    torch.set_num_threads(1);
                    CpuAttention.prefill(q, from, raw[0].data_ptr().address(), raw[1].data_ptr().address(), heads, d,
                            capacity, KvType.INT8, scale, out);
                    for (int r = 0; r < rows; r++) {
                        Tensor qr = q.select(0, r).contiguous().view(heads, 1, d);
                        Tensor ref = reference(qr, deq[0], deq[1], from + r + 1, scale);
                        assertThat(relErr(out.select(0, r).view(heads, d), ref))
                                .as("%s, row %d, path %s", java.util.Arrays.toString(c), r, CpuAttention.path())
                                .isLessThan(3e-6);
                    }
                    Tensor again = torch.empty(rows, (long) heads * d);
                    torch.set_num_threads(2);
                    CpuAttention.prefill(q, from, raw[0].data_ptr().address(), raw[1].data_ptr().address(), heads, d,
                            capacity, KvType.INT8, scale, again);
                    assertThat(torch.equal(again, out)).as("threads").isTrue();
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    /**
     * The prefill form: each query row at position from + r against the double-precision causal reference over the
     * cache's rows 0..from + r, with fp32 and fp16 caches (the fp16 reference reads the rounded values), NaN in the
     * rows past the last position (never read); every row the bits of the one-query form at its position (where the
     * cache is fp32), whatever the thread count.
     */
    @Test
    void prefillRowsAttendCausallyStraightFromTheCache() {
        int before = torch.get_num_threads();
        try {
            for (boolean half : new boolean[] {false, true}) {
                for (int[] c : PREFILL_CASES) {
                    int heads = c[0];
                    int d = c[1];
                    int from = c[2];
                    int rows = c[3];
                    int capacity = from + rows + 7;
                    try (PointerScope scope = new PointerScope()) {
                        Generator g = torch.createCPUGenerator(7L * heads + d + from + (half ? 1 : 0));
                        ScalarType t = half ? ScalarType.Half : ScalarType.Float;
                        Tensor k = randn(g, heads, capacity, d).mul_(new Scalar(3.0)).to(t);
                        Tensor v = randn(g, heads, capacity, d).to(t);
                        k.narrow(1, from + rows, 7).fill_(new Scalar(Float.NaN));
                        v.narrow(1, from + rows, 7).fill_(new Scalar(Float.NaN));
                        // the queries as a q|k|v product leaves them: rows of 3 * heads * d, q first
                        Tensor qkv = randn(g, rows, 3L * heads * d);
                        Tensor q = qkv.narrow(1, 0, (long) heads * d);
                        double scale = 1.0 / Math.sqrt(d);
                        Tensor out = torch.full(new long[] {rows, (long) heads * d}, new Scalar(Float.NaN));
                        torch.set_num_threads(1 + (rows % 2));
                        CpuAttention.prefill(q, from, k.data_ptr().address(), v.data_ptr().address(), heads, d,
                                capacity, half ? KvType.FP16 : KvType.FP32, scale, out);
                        Tensor kf = k.to(ScalarType.Float);
                        Tensor vf = v.to(ScalarType.Float);
                        for (int r = 0; r < rows; r++) {
                            Tensor qr = q.select(0, r).contiguous().view(heads, 1, d);
                            Tensor ref = reference(qr, kf, vf, from + r + 1, scale);
                            assertThat(relErr(out.select(0, r).view(heads, d), ref))
                                    .as("half %s, %s, row %d", half, java.util.Arrays.toString(c), r)
                                    .isLessThan(half ? 3e-6 : 2e-6);
                            if (!half) {
                                Tensor one = torch.empty(heads, 1, d);
                                CpuAttention.oneQuery(qr, k, v, from + r + 1, scale, one);
                                assertThat(torch.equal(one.view(heads * d), out.select(0, r))).as("row %d", r)
                                        .isTrue();
                            }
                        }
                        Tensor again = torch.empty(rows, (long) heads * d);
                        torch.set_num_threads(2 - (rows % 2));
                        CpuAttention.prefill(q, from, k.data_ptr().address(), v.data_ptr().address(), heads, d,
                                capacity, half ? KvType.FP16 : KvType.FP32, scale, again);
                        assertThat(torch.equal(again, out)).as("threads").isTrue();
                    }
                }
            }
            try (PointerScope scope = new PointerScope()) {
                Tensor k = torch.zeros(2, 10, 8);
                long a = k.data_ptr().address();
                assertThatThrownBy(() -> CpuAttention.prefill(torch.zeros(4, 16), 7, a, a, 2, 8, 10, KvType.FP32, 1.0,
                        torch.empty(4, 16))).isInstanceOf(IllegalArgumentException.class); // past the capacity
                assertThatThrownBy(() -> CpuAttention.prefill(torch.zeros(4, 16), 0, a, a, 2, 8, 10, KvType.FP32, 1.0,
                        torch.empty(4, 8))).isInstanceOf(IllegalArgumentException.class);
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void theResultDoesNotDependOnTheThreadCount() {
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(99);
            Tensor k = randn(g, 16, 700, 64);
            Tensor v = randn(g, 16, 700, 64);
            Tensor q = randn(g, 16, 1, 64);
            Tensor one = torch.empty(16, 1, 64);
            Tensor many = torch.empty(16, 1, 64);
            torch.set_num_threads(1);
            CpuAttention.oneQuery(q, k, v, 650, 0.125, one);
            // this machine's cores, and counts a bigger machine has: more threads than the 16 heads included
            for (int n : new int[] {Math.max(2, Runtime.getRuntime().availableProcessors()), 3, 16, 32}) {
                torch.set_num_threads(n);
                for (int i = 0; i < 5; i++) {
                    CpuAttention.oneQuery(q, k, v, 650, 0.125, many);
                    assertThat(torch.equal(one, many)).as("%d threads, run %d", n, i).isTrue();
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void theDecodeSwitchFollowsTheMeasurementUnlessFixed() {
        boolean before = CpuAttention.usedForDecode();
        String fixed = System.getProperty(CpuAttention.PROPERTY);
        try {
            System.clearProperty(CpuAttention.PROPERTY);
            assertThat(CpuAttention.useForDecode(true)).isTrue();
            assertThat(CpuAttention.useForDecode(false)).isFalse();
            System.setProperty(CpuAttention.PROPERTY, "native");
            assertThat(CpuAttention.useForDecode(false)).isTrue();
            System.setProperty(CpuAttention.PROPERTY, "libtorch");
            assertThat(CpuAttention.useForDecode(true)).isFalse();
        } finally {
            dev.localai.tts.core.testing.SystemProperties.restore(CpuAttention.PROPERTY, fixed);
            CpuAttention.useForDecode(before);
        }
    }

    @Test
    void libTorchsDispatchCapCapsThePath() {
        assertThat(CpuAttention.capped(3, null)).isEqualTo(3);
        assertThat(CpuAttention.capped(3, "avx2")).isEqualTo(1);
        assertThat(CpuAttention.capped(3, "default")).isZero();
        assertThat(CpuAttention.capped(1, "avx512")).isEqualTo(1);
        if ("avx2".equalsIgnoreCase(System.getenv("ATEN_CPU_CAPABILITY"))) {
            assertThat(CpuAttention.path()).isIn("avx2", "sse2");
        }
        if ("default".equalsIgnoreCase(System.getenv("ATEN_CPU_CAPABILITY"))) {
            assertThat(CpuAttention.path()).isEqualTo("sse2");
        }
    }

    @Test
    void tensorsItCannotReadAreRefused() {
        try (PointerScope scope = new PointerScope()) {
            Tensor k = torch.zeros(4, 10, 16);
            Tensor out = torch.empty(4, 1, 16);
            Tensor q = torch.zeros(4, 1, 16);
            assertThatThrownBy(() -> CpuAttention.oneQuery(q, k, k, 11, 0.25, out))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> CpuAttention.oneQuery(q, k, k, 0, 0.25, out))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> CpuAttention.oneQuery(q, k.transpose(1, 2), k, 5, 0.25, out))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> CpuAttention.oneQuery(q.to(ScalarType.Double), k, k, 5, 0.25, out))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
