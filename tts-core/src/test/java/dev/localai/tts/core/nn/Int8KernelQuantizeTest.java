package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The native weight quantization ({@link Int8Kernel#quantizeWeights}) gives {@link Int8Matrix}'s LibTorch operations'
 * bits exactly: the scales and every int8 code, for rows and for transposed (column-contiguous) matrices, odd shapes
 * (vector tails, partial tiles), rows of very different sizes, zero and subnormal rows, exact halves (rounded to even),
 * one thread or two; and it declines what it does not take (non-finite values, other layouts), which the matrix then
 * quantizes LibTorch's way.
 */
class Int8KernelQuantizeTest {
    @BeforeAll
    static void load() {
        Torch.load();
    }

    private static void assumeNative() {
        assumeTrue(NativeKernels.available(), "no native library here");
    }

    /** Normal values, each row scaled by 10^(-4..4), row 1 zero, row 2 subnormal, row 3 exact halves (max 127). */
    private static Tensor matrix(long seed, long out, long in) {
        Generator g = torch.make_generator_cpu(seed);
        Tensor w = torch.randn(new long[] {out, in}, new GeneratorOptional(g),
                new org.bytedeco.pytorch.TensorOptions());
        Tensor exps = torch.randint(-4, 5, new long[] {out, 1}, new GeneratorOptional(g),
                new org.bytedeco.pytorch.TensorOptions(torch.ScalarType.Float));
        w.mul_(torch.pow(new Scalar(10.0), exps));
        if (out > 1) {
            w.select(0, 1).zero_();
        }
        if (out > 2) {
            w.select(0, 2).mul_(new Scalar(1e-40));
        }
        if (out > 3) {
            Tensor r = w.select(0, 3);
            r.copy_(torch.arange(new Scalar(0.0), new Scalar((double) in)).remainder(new Scalar(20.0))
                    .sub_(new Scalar(10.0)).add_(new Scalar(0.5)));
            r.select(0, 0).fill_(new Scalar(127.0)); // scale exactly 1: the halves stay halves
        }
        return w;
    }

    private static void assertSameBits(Tensor w, String what) {
        Tensor[] nat = Int8Kernel.quantizeWeights(w);
        assertThat(nat).as(what + ": taken").isNotNull();
        Tensor[] ref = Int8Matrix.quantizeWithLibTorch(w);
        assertThat(nat[0].sizes().vec().get()).as(what).containsExactly(w.size(0), w.size(1));
        assertThat(nat[0].is_contiguous()).isTrue();
        assertThat(torch.equal(nat[1], ref[1])).as(what + ": scales").isTrue();
        assertThat(torch.equal(nat[0], ref[0])).as(what + ": codes").isTrue();
    }

    @Test
    void rowsAndTransposedMatricesGetLibTorchsBits() {
        assumeNative();
        long[][] shapes = {{1, 1}, {3, 5}, {5, 3}, {67, 129}, {130, 1024}, {64, 17}, {200, 64}};
        for (long seed = 1; seed <= 3; seed++) {
            for (long[] s : shapes) {
                try (PointerScope scope = new PointerScope()) {
                    assertSameBits(matrix(seed, s[0], s[1]), "rows " + s[0] + "x" + s[1] + " seed " + seed);
                    // a checkpoint's (in, out) matrix seen as (out, in): columns contiguous
                    Tensor stored = matrix(seed + 100, s[1], s[0]).t().contiguous().t();
                    assertThat(stored.stride(0)).isEqualTo(1);
                    assertSameBits(stored, "columns " + s[0] + "x" + s[1] + " seed " + seed);
                    assertSameBits(matrix(seed + 200, s[1], s[0]).t(), "transposed view " + s[1] + "x" + s[0]);
                }
            }
        }
    }

    @Test
    void halvesRoundToEven() {
        assumeNative();
        try (PointerScope scope = new PointerScope()) {
            Tensor w = torch.tensor(new float[] {127f, 2.5f, -3.5f, 0.5f, -0.5f, 1.5f, 126.5f, -126.5f}).view(1, 8);
            Tensor[] q = Int8Kernel.quantizeWeights(w);
            int[] codes = new int[8];
            q[0].to(torch.ScalarType.Int).contiguous().data_ptr_int().get(codes);
            assertThat(codes).containsExactly(127, 2, -4, 0, 0, 2, 126, -126);
            assertThat(q[1].item_float()).isEqualTo(1.0f);
        }
    }

    @Test
    void oneThreadOrTwoGiveTheSameBits() {
        assumeNative();
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            Tensor w = matrix(7, 1030, 300);
            Tensor wt = matrix(8, 300, 1030).t();
            torch.set_num_threads(1);
            Tensor[] a = Int8Kernel.quantizeWeights(w);
            Tensor[] at = Int8Kernel.quantizeWeights(wt);
            torch.set_num_threads(2);
            Tensor[] b = Int8Kernel.quantizeWeights(w);
            Tensor[] bt = Int8Kernel.quantizeWeights(wt);
            assertThat(torch.equal(a[0], b[0]) && torch.equal(a[1], b[1])).isTrue();
            assertThat(torch.equal(at[0], bt[0]) && torch.equal(at[1], bt[1])).isTrue();
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void whatItDeclinesIsQuantizedLibTorchsWay() {
        assumeNative();
        try (PointerScope scope = new PointerScope()) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                for (boolean transposed : new boolean[] {false, true}) {
                    Tensor w = matrix(3, 70, 90);
                    w.select(0, 66).select(0, 88).fill_(new Scalar(bad));
                    Tensor m = transposed ? w.t().contiguous().t() : w;
                    assertThat(Int8Kernel.quantizeWeights(m)).as(bad + (transposed ? " columns" : " rows")).isNull();
                }
            }
            Tensor strided = matrix(4, 40, 80).narrow(1, 0, 80).slice(1, new org.bytedeco.pytorch.LongOptional(0),
                    new org.bytedeco.pytorch.LongOptional(80), 2);
            assertThat(strided.stride(1)).isEqualTo(2);
            assertThat(Int8Kernel.quantizeWeights(strided)).as("neither rows nor columns contiguous").isNull();
            try (Weights owner = new Weights()) {
                Int8Matrix m = Int8Matrix.quantize(strided, owner, Int8Matrix.Kernel.NATIVE);
                Tensor x = torch.randn(3, 40);
                Tensor y = m.forward(x, null);
                Tensor ref = x.matmul(strided.t());
                double rel = y.sub(ref).norm().item_double() / ref.norm().item_double();
                assertThat(rel).as("quantized LibTorch's way, and it works").isLessThan(3e-2);
            }
        }
    }
}
