package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
 * The native int8 kernel ({@link Int8Kernel}) computes exactly its documented formula, bit for bit, on every
 * instruction set this CPU runs (AVX-512 VNNI, AVX-VNNI, AVX2, SSSE3, plain C), for any split of its output rows over
 * calls or threads, and each input row on its own; checked against a plain Java rendering of the formula over several
 * shapes (vector tails included), row counts and seeds.
 */
class Int8KernelTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    /** Where the build could compile it (Linux x86-64 with gcc), the library must be in the build and load. */
    @Test
    void theKernelIsBuiltAndLoadsWhereGccIs() {
        boolean linuxX64 = "Linux".equals(System.getProperty("os.name"))
                && List.of("amd64", "x86_64").contains(System.getProperty("os.arch"));
        boolean gcc = System.getenv("PATH") != null && java.util.Arrays.stream(System.getenv("PATH").split(":"))
                .anyMatch(d -> Files.isExecutable(Path.of(d, "gcc")));
        assumeTrue(linuxX64 && gcc, "the kernel is built on Linux x86-64 with gcc only");
        assertThat(Int8Kernel.available()).as(String.valueOf(Int8Kernel.unavailableReason())).isTrue();
        assertThat(Int8Kernel.best()).isNotNull();
        assertThat(Int8Kernel.isa()).isEqualTo(Int8Kernel.best());
    }

    private static List<Int8Kernel.Isa> isas() {
        assumeTrue(Int8Kernel.available(), "no native int8 kernel here: " + Int8Kernel.unavailableReason());
        List<Int8Kernel.Isa> out = new ArrayList<>();
        for (Int8Kernel.Isa i : Int8Kernel.Isa.values()) {
            if (Int8Kernel.runs(i)) {
                out.add(i);
            }
        }
        assertThat(out).contains(Int8Kernel.Isa.SCALAR, Int8Kernel.best());
        if (CpuFlags.get().contains("ssse3")) {
            // under every dispatch cap (LibTorch's default kernels included): the path of a CPU without AVX2
            assertThat(out).contains(Int8Kernel.Isa.SSSE3);
        }
        return out;
    }

    private static Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
    }

    private static Tensor randInt8(Generator g, long out, long in) {
        return torch.randint(-127, 128, new long[] {out, in}, new GeneratorOptional(g),
                new TensorOptions(ScalarType.Char));
    }

    private static float[] floats(Tensor t) {
        float[] a = new float[(int) t.numel()];
        t.contiguous().data_ptr_float().get(a);
        return a;
    }

    private static byte[] bytes(Tensor t) {
        byte[] a = new byte[(int) t.numel()];
        t.contiguous().data_ptr_char().get(a);
        return a;
    }

    /** Random input rows, a random int8 weight, one row scale for every row and a random bias. */
    private record Inputs(Tensor x, Tensor q, Tensor scale, Tensor bias) {
        static Inputs random(Generator g, long rows, long out, long in, double scale) {
            return new Inputs(randn(g, rows, in), randInt8(g, out, in), torch.full(new long[] {out}, new Scalar(scale)),
                    randn(g, out));
        }
    }

    /** The formula of int8_kernel.c in plain Java (float arithmetic, round half to even): the expected bits. */
    static float[] reference(float[] x, int m, int in, byte[] q, int out, float[] scale, float[] bias) {
        float[] y = new float[m * out];
        byte[] xq = new byte[in];
        for (int r = 0; r < m; r++) {
            float max = 0;
            boolean bad = false;
            for (int k = 0; k < in; k++) {
                float a = Math.abs(x[r * in + k]);
                bad |= !Float.isFinite(a);
                max = Math.max(max, a);
            }
            float step;
            if (bad) {
                step = Float.NaN;
            } else if (max == 0) {
                step = 0;
                java.util.Arrays.fill(xq, (byte) 0);
            } else {
                float inv = 127f / max;
                for (int k = 0; k < in; k++) {
                    xq[k] = (byte) Math.rint(x[r * in + k] * inv);
                }
                step = max / 127f;
            }
            for (int n = 0; n < out; n++) {
                int d = 0;
                for (int k = 0; k < in; k++) {
                    d += q[n * in + k] * xq[k];
                }
                float v = (float) d * (step * scale[n]);
                y[r * out + n] = bias != null ? v + bias[n] : v;
            }
        }
        return y;
    }

    @Test
    void everyInstructionSetComputesTheDocumentedFormulaBitForBit() {
        List<Int8Kernel.Isa> isas = isas();
        int[][] shapes = {{1024, 4096}, {4096, 1024}, {37, 100}, {6, 64}, {3, 5}, {9, 200}};
        for (int seed = 1; seed <= 3; seed++) {
            for (int[] s : shapes) {
                for (int m : new int[] {1, 3, 17}) {
                    if ((long) m * s[0] * s[1] > 20_000_000L) {
                        continue; // the Java reference is slow: the big shapes with few rows
                    }
                    try (PointerScope scope = new PointerScope()) {
                        Generator g = torch.createCPUGenerator(seed * 7919L + s[0] * 31L + m);
                        Tensor x = randn(g, m, s[1]);
                        x.select(0, 0).mul_(new Scalar(1e3)); // rows of very different magnitudes
                        Tensor q = randInt8(g, s[0], s[1]);
                        Tensor scale = torch.rand(new long[] {s[0]}, new GeneratorOptional(g),
                                new TensorOptions(ScalarType.Float)).mul_(new Scalar(0.01)).add_(new Scalar(1e-4));
                        Tensor bias = seed == 2 ? null : randn(g, s[0]);
                        float[] want = reference(floats(x), m, s[1], bytes(q), s[0], floats(scale),
                                bias == null ? null : floats(bias));
                        for (Int8Kernel.Isa isa : isas) {
                            Tensor y = torch.full(new long[] {m, s[0]}, new Scalar(Float.NaN));
                            Int8Kernel.check(x, q, scale, bias, y);
                            Int8Kernel.linear(x, q, scale, bias, y, 0, s[0], isa, 1 + seed % 2);
                            assertThat(floats(y)).as("%s, %dx%d, %d rows, seed %d", isa, s[0], s[1], m, seed)
                                    .containsExactly(want);
                        }
                    }
                }
            }
        }
    }

    @Test
    void anySplitOfTheOutputRowsGivesTheSameBits() {
        List<Int8Kernel.Isa> isas = isas();
        try (PointerScope scope = new PointerScope()) {
            Inputs in = Inputs.random(torch.createCPUGenerator(4242), 5, 301, 1024, 0.003);
            Tensor x = in.x();
            Tensor q = in.q();
            Tensor scale = in.scale();
            Tensor bias = in.bias();
            for (Int8Kernel.Isa isa : isas) {
                Tensor whole = torch.empty(5, 301);
                Int8Kernel.linear(x, q, scale, bias, whole, 0, 301, isa, 1);
                for (int cut : new int[] {1, 5, 13, 150, 300}) {
                    Tensor parts = torch.full(new long[] {5, 301}, new Scalar(Float.NaN));
                    Int8Kernel.linear(x, q, scale, bias, parts, cut, 301, isa, 1);
                    Int8Kernel.linear(x, q, scale, bias, parts, 0, cut, isa, 1);
                    assertThat(torch.equal(parts, whole)).as("%s cut at %d", isa, cut).isTrue();
                }
                for (int threads : new int[] {2, 3, 7, 64}) {
                    Tensor split = torch.full(new long[] {5, 301}, new Scalar(Float.NaN));
                    Int8Kernel.linear(x, q, scale, bias, split, 0, 301, isa, threads);
                    assertThat(torch.equal(split, whole)).as("%s on %d threads", isa, threads).isTrue();
                }
            }
        }
    }

    @Test
    void eachRowIsQuantizedOnItsOwnAndANonFiniteRowSpoilsOnlyItself() {
        List<Int8Kernel.Isa> isas = isas();
        for (int seed = 1; seed <= 3; seed++) {
            try (PointerScope scope = new PointerScope()) {
                Inputs in = Inputs.random(torch.createCPUGenerator(seed), 6, 64, 256, 0.01);
                Tensor x = in.x();
                x.select(0, 0).mul_(new Scalar(300.0)); // a transformer's first position
                x.select(0, 2).zero_();
                x.select(0, 3).select(0, 17).fill_(new Scalar(Float.NaN));
                x.select(0, 4).select(0, 200).fill_(new Scalar(Float.POSITIVE_INFINITY));
                Tensor q = in.q();
                Tensor scale = in.scale();
                Tensor bias = in.bias();
                for (Int8Kernel.Isa isa : isas) {
                    Tensor all = torch.empty(6, 64);
                    Int8Kernel.linear(x, q, scale, bias, all, 0, 64, isa, 2);
                    for (int r = 0; r < 6; r++) {
                        Tensor alone = torch.empty(1, 64);
                        Int8Kernel.linear(x.narrow(0, r, 1).contiguous(), q, scale, bias, alone, 0, 64, isa, 1);
                        Tensor row = all.narrow(0, r, 1);
                        if (r == 3 || r == 4) {
                            assertThat(torch.isnan(row).all().item_bool()).as("%s row %d", isa, r).isTrue();
                        } else {
                            assertThat(torch.equal(row, alone)).as("%s row %d alone", isa, r).isTrue();
                            assertThat(torch.isfinite(row).all().item_bool()).isTrue();
                        }
                    }
                    assertThat(torch.equal(all.select(0, 2), bias)).as("a zero row gives the bias").isTrue();
                }
            }
        }
    }

    @Test
    void aForcedInstructionSetIsUsedOnlyWhereTheCpuRunsIt() {
        isas();
        String before = System.getProperty("localai.tts.int8Isa");
        try {
            System.setProperty("localai.tts.int8Isa", "avx2");
            assertThat(Int8Kernel.isa()).isEqualTo(Int8Kernel.runs(Int8Kernel.Isa.AVX2)
                    ? Int8Kernel.Isa.AVX2 : Int8Kernel.best());
            // an ISA this CPU lacks (or above the cap) is ignored: the best one runs
            for (Int8Kernel.Isa i : Int8Kernel.Isa.values()) {
                System.setProperty("localai.tts.int8Isa", i.label());
                assertThat(Int8Kernel.isa()).isEqualTo(Int8Kernel.runs(i) ? i : Int8Kernel.best());
            }
            System.setProperty("localai.tts.int8Isa", "scalar");
            assertThat(Int8Kernel.isa()).isEqualTo(Int8Kernel.Isa.SCALAR);
            System.setProperty("localai.tts.int8Isa", "no-such-isa");
            assertThat(Int8Kernel.isa()).isEqualTo(Int8Kernel.best());
        } finally {
            dev.localai.tts.core.testing.SystemProperties.restore("localai.tts.int8Isa", before);
        }
    }

    @Test
    void theNativeKernelsLoadOnLinuxX64UnlessTurnedOff() {
        assertThat(NativeKernels.reasonNotToLoad("Linux", "amd64", null)).isNull();
        assertThat(NativeKernels.reasonNotToLoad("Linux", "x86_64", "true")).isNull();
        assertThat(NativeKernels.reasonNotToLoad("Linux", "amd64", "false")).contains("turned off");
        assertThat(NativeKernels.reasonNotToLoad("Linux", "amd64", " FALSE ")).contains("turned off");
        assertThat(NativeKernels.reasonNotToLoad("Linux", "aarch64", null)).contains("x86-64");
        assertThat(NativeKernels.reasonNotToLoad("Mac OS X", "x86_64", null)).contains("x86-64");
    }

    @Test
    void libTorchsDispatchCapCapsTheKernelToo() {
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.AVX512_VNNI, null)).isEqualTo(Int8Kernel.Isa.AVX512_VNNI);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.AVX512_VNNI, "avx2")).isEqualTo(Int8Kernel.Isa.AVX2);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.AVX_VNNI, "AVX2")).isEqualTo(Int8Kernel.Isa.AVX2);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.AVX2, "avx512")).isEqualTo(Int8Kernel.Isa.AVX2);
        // LibTorch's default kernels are what a CPU without AVX2 runs: its SSSE3 path, plain C where it lacks SSSE3
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.AVX512_VNNI, "default")).isEqualTo(Int8Kernel.Isa.SSSE3);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.AVX2, " DEFAULT ")).isEqualTo(Int8Kernel.Isa.SSSE3);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.SCALAR, "default")).isEqualTo(Int8Kernel.Isa.SCALAR);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.SSSE3, "avx2")).isEqualTo(Int8Kernel.Isa.SSSE3);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.SSSE3, null)).isEqualTo(Int8Kernel.Isa.SSSE3);
        assertThat(Int8Kernel.capped(Int8Kernel.Isa.SCALAR, "avx2")).isEqualTo(Int8Kernel.Isa.SCALAR);
        // the attention's path codes (0 plain C, 1 AVX2, 3 AVX-512) keep their own cap
        assertThat(NativeKernels.capped(3, "default")).isZero();
        assertThat(NativeKernels.capped(3, "avx2")).isEqualTo(1);
        if (Int8Kernel.available() && "avx2".equalsIgnoreCase(System.getenv("ATEN_CPU_CAPABILITY"))) {
            assertThat(Int8Kernel.best().ordinal()).isLessThanOrEqualTo(Int8Kernel.Isa.AVX2.ordinal());
        }
        if (Int8Kernel.available() && "default".equalsIgnoreCase(System.getenv("ATEN_CPU_CAPABILITY"))) {
            assertThat(Int8Kernel.best()).isEqualTo(CpuFlags.get().contains("ssse3")
                    ? Int8Kernel.Isa.SSSE3 : Int8Kernel.Isa.SCALAR);
        }
    }

    @Test
    void mismatchedTensorsAreRefusedBeforeTheKernelReadsThem() {
        isas();
        try (PointerScope scope = new PointerScope()) {
            Tensor q = torch.zeros(8, 64).to(ScalarType.Char);
            Tensor scale = torch.ones(8);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> Int8Kernel.check(torch.ones(2, 32), q, scale, null, torch.empty(2, 8)))
                    .isInstanceOf(IllegalArgumentException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> Int8Kernel.check(torch.ones(2, 64), q, scale, null, torch.empty(8, 2).t()))
                    .isInstanceOf(IllegalArgumentException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> Int8Kernel.check(torch.ones(2, 64).to(ScalarType.Double), q, scale, null,
                            torch.empty(2, 8))).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
