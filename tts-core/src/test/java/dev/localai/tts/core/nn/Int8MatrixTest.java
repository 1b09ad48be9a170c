package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptional;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The int8 weight path against fp32, on several shapes, inputs and seeds (what can vary is repeated). */
class Int8MatrixTest {
    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(Int8Matrix.usable(), "int8 weights need FBGEMM (x86-64 with AVX2) or the native int8 kernel");
    }

    /** A matrix for {@code kernel}, the test skipped where that kernel does not run here. */
    private static Int8Matrix quantize(Tensor w, Int8Matrix.Kernel kernel) {
        assumeTrue(kernel == Int8Matrix.Kernel.NATIVE ? Int8Kernel.available() : Int8Matrix.supported(),
                kernel + " does not run here");
        Int8Matrix m = Int8Matrix.quantize(w, owner, kernel);
        assertThat(m.kernel()).isEqualTo(kernel);
        return m;
    }

    private static Weights owner;

    @org.junit.jupiter.api.BeforeEach
    void owner() {
        owner = new Weights();
    }

    @org.junit.jupiter.api.AfterEach
    void release() {
        owner.close();
    }

    private static Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
    }

    private static double relErr(Tensor got, Tensor ref) {
        return got.sub(ref).norm().item_double() / ref.norm().item_double();
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Int8Matrix.Kernel.class)
    void matchesFp32WithinInt8RoundingOnGpt2Shapes(Int8Matrix.Kernel kernel) {
        long[][] shapes = {{3072, 1024}, {1024, 1024}, {4096, 1024}, {1024, 4096}, {6563, 1024}, {40, 24}};
        for (int seed = 1; seed <= 3; seed++) {
            for (long[] s : shapes) {
                try (PointerScope scope = new PointerScope()) {
                    Generator g = torch.createCPUGenerator(seed * 1000L + s[0]);
                    Tensor w = randn(g, s).mul_(new Scalar(0.02));
                    Tensor b = randn(g, s[0]).mul_(new Scalar(0.1));
                    Int8Matrix m = quantize(w, kernel);
                    for (long rows : new long[] {1, 7, 31}) {
                        Tensor x = randn(g, rows, s[1]);
                        Tensor ref = torch.linear(x, w, new TensorOptional(b));
                        Tensor got = m.forward(x, b);
                        assertThat(got.sizes().vec().get()).containsExactly(rows, s[0]);
                        assertThat(relErr(got, ref)).as("shape %dx%d rows %d seed %d", s[0], s[1], rows, seed)
                                .isLessThan(2e-2);
                    }
                    Tensor v = randn(g, s[1]);
                    Tensor dst = torch.full(new long[] {s[0]}, new Scalar(Float.NaN));
                    m.forwardVec(v, b, dst);
                    Tensor ref = torch.addmv(b, w, v);
                    assertThat(relErr(dst, ref)).isLessThan(2e-2);
                    // one vector is the same computation as a one-row matrix
                    assertThat(torch.equal(dst, m.forward(v.view(1, -1), b).view(-1))).isTrue();
                }
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Int8Matrix.Kernel.class)
    void aRowOfHugeMagnitudeDoesNotCostTheOthersTheirPrecision(Int8Matrix.Kernel kernel) {
        for (int seed = 1; seed <= 3; seed++) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(77 + seed);
                Tensor w = randn(g, 256, 512).mul_(new Scalar(0.02));
                Int8Matrix m = quantize(w, kernel);
                Tensor x = randn(g, 9, 512);
                // a transformer's first position: 300x the others' magnitude
                x.select(0, 0).mul_(new Scalar(300.0));
                x.select(0, 5).mul_(new Scalar(20.0));
                Tensor ref = torch.matmul(x, w.t());
                Tensor got = m.forward(x, null);
                for (int r = 0; r < 9; r++) {
                    assertThat(relErr(got.select(0, r), ref.select(0, r))).as("row %d seed %d", r, seed)
                            .isLessThan(3e-2);
                }
            }
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Int8Matrix.Kernel.class)
    void forwardOnAnUnbatchedOrBatchedInputKeepsLeadingDims(Int8Matrix.Kernel kernel) {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(5);
            Tensor w = randn(g, 48, 32);
            Int8Matrix m = quantize(w, kernel);
            Tensor x = randn(g, 2, 3, 32);
            Tensor y = m.forward(x, null);
            assertThat(y.sizes().vec().get()).containsExactly(2, 3, 48);
            assertThat(relErr(y, torch.matmul(x, w.t()))).isLessThan(2e-2);
        }
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.EnumSource(Int8Matrix.Kernel.class)
    void zeroRowsAndExactIntegersSurvive(Int8Matrix.Kernel kernel) {
        try (PointerScope scope = new PointerScope()) {
            // row 0 all zeros (scale falls back to 1), row 1 integers whose largest magnitude is 127 (scale 1): exact
            Tensor w = torch.zeros(2, 64);
            w.select(0, 1).copy_(torch.arange(new Scalar(64)).to(ScalarType.Float).sub_(new Scalar(32)));
            w.select(0, 1).select(0, 0).fill_(new Scalar(127.0));
            Int8Matrix m = quantize(w, kernel);
            Tensor x = torch.zeros(1, 64);
            x.select(1, 40).fill_(new Scalar(1.0));
            Tensor y = m.forward(x, null);
            assertThat(y.select(1, 0).item_double()).isEqualTo(0.0);
            assertThat(y.select(1, 1).item_double()).isEqualTo(40 - 32.0);
            assertThat(torch.isfinite(y).all().item_bool()).isTrue();
        }
    }

    @Test
    void rejectsWhatItCannotQuantize() {
        try (PointerScope scope = new PointerScope()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> Int8Matrix.quantize(torch.ones(4), owner))
                    .isInstanceOf(IllegalArgumentException.class);
            org.assertj.core.api.Assertions.assertThatThrownBy(
                    () -> Int8Matrix.quantize(torch.ones(4, 4).to(ScalarType.BFloat16), owner))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /**
     * Loading path: quantized from the checkpoint's transposed view and packed later, the
     * matrices multiply to the same bits as quantized from a contiguous copy and packed at once; before packing a
     * matrix refuses to multiply, and its unpacked copy is given back once packed.
     */
    @Test
    void aTransposedViewPackedLaterGivesTheSameBits() {
        assumeTrue(Int8Matrix.supported(), "FBGEMM's packing needs an x86-64 CPU with AVX2");
        boolean before = Int8Matrix.nativeKernel();
        Int8Matrix.useNativeKernel(false);
        try (PointerScope scope = new PointerScope(); Weights mine = new Weights()) {
            Generator g = torch.createCPUGenerator(11);
            java.util.List<Int8Matrix> later = new java.util.ArrayList<>();
            java.util.List<Int8Matrix> now = new java.util.ArrayList<>();
            java.util.List<Tensor> inputs = new java.util.ArrayList<>();
            for (int i = 0; i < 6; i++) {
                Tensor checkpoint = randn(g, 96, 160 + 32 * i); // (in, out), as GPT-2's Conv1D stores it
                ParamSource src = mine.track(RandomParams.normal(ScalarType.Float, 0.02));
                later.add(Int8Matrix.quantizeUnpacked(checkpoint.t(), src));
                now.add(Int8Matrix.quantize(checkpoint.t().contiguous(), owner, Int8Matrix.Kernel.FBGEMM));
                inputs.add(randn(g, 3, 96));
            }
            Tensor x0 = inputs.get(0);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> later.get(0).forward(x0, null))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("packed");
            int held = mine.count();
            later.forEach(Int8Matrix::pack);
            assertThat(mine.count()).as("each unpacked copy given back, each packed matrix kept").isEqualTo(held);
            for (int i = 0; i < later.size(); i++) {
                Tensor a = later.get(i).forward(inputs.get(i), null);
                Tensor b = now.get(i).forward(inputs.get(i), null);
                assertThat(a.equal(b)).as("matrix %d", i).isTrue();
            }
            later.get(0).pack(); // packing again does nothing
            assertThat(mine.count()).isEqualTo(held);
        } finally {
            Int8Matrix.useNativeKernel(before);
        }
    }
}
