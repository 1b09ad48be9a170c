package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
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
 * The fp16-weight product ({@link HalfMatrix}) against a double-precision product of the same fp16-rounded weights,
 * over shapes with and without a tail past the last 16 inputs, 1 to 5 rows and seeds; and the same bits on every path
 * the CPU runs, any thread count and for a row alone or in a batch.
 */
class HalfMatrixTest {
    /** The paths' codes: SSE2 (every x86-64), AVX2 + F16C, AVX-512 (each capped by the C side to what the CPU runs). */
    private static final int[] PATHS = {0, 1, 3};

    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(HalfMatrix.available(), "the native kernels are not loaded here");
    }

    private static Tensor randn(Generator g, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float));
    }

    private static float[] floats(Tensor t) {
        Tensor c = t.contiguous();
        float[] a = new float[(int) c.numel()];
        c.data_ptr_float().get(a);
        return a;
    }

    @Test
    void matchesDoublePrecisionOfTheRoundedWeightsOnEveryPath() {
        long[][] shapes = {{6563, 1024}, {100, 17}, {37, 1000}, {8, 16}, {5, 3}};
        for (int seed = 1; seed <= 2; seed++) {
            for (long[] s : shapes) {
                for (int m : new int[] {1, 2, 5}) {
                    try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
                        Generator g = torch.createCPUGenerator(seed * 97L + s[0] + m);
                        Tensor w = randn(g, s[0], s[1]).mul_(new Scalar(0.05));
                        Tensor x = randn(g, m, s[1]).mul_(new Scalar(3.0));
                        Tensor bias = randn(g, s[0]);
                        HalfMatrix h = HalfMatrix.of(w, owner.track(new RandomParams(1)));
                        Tensor wd = w.to(ScalarType.Half).to(ScalarType.Double);
                        Tensor ref = torch.addmm(bias.to(ScalarType.Double), x.to(ScalarType.Double), wd.t());
                        // fp32 sums of in terms: |error| <= in * 2^-24 * sum |w x| (a loose bound), per output
                        Tensor scaleOfSum = torch.mm(x.abs().to(ScalarType.Double), wd.abs().t()).add(bias.abs()
                                .to(ScalarType.Double));
                        float[] first = null;
                        for (int path : PATHS) {
                            Tensor y = torch.empty(m, s[0]);
                            h.forwardRows(x, bias, y, path, 1);
                            double worst = y.to(ScalarType.Double).sub(ref).abs().div(scaleOfSum).max()
                                    .item_double();
                            assertThat(worst).as("%s x %d rows, path %d", Arrays.toString(s), m, path)
                                    .isLessThan(s[1] * Math.pow(2, -24) + 1e-7);
                            float[] got = floats(y);
                            if (first == null) {
                                first = got;
                            }
                            assertThat(got).as("path %d", path).containsExactly(first);
                        }
                    }
                }
            }
        }
    }

    /**
     * Every one of the 65536 halves (zeros, subnormals, normals, infinities, NaNs, both signs) converts exactly on every
     * path: weight row n holds half n in column n mod 16 and zeros elsewhere, so its product with a row of ones is
     * that half's value (plus zeros: a negative zero comes out positive).
     */
    @Test
    void everyHalfConvertsExactlyOnEveryPath() {
        int n = 65536;
        float[] w = new float[n * 16];
        for (int h = 0; h < n; h++) {
            w[h * 16 + h % 16] = Float.float16ToFloat((short) h);
        }
        try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
            HalfMatrix m = HalfMatrix.of(Tensor.create(w, n, 16), owner.track(new RandomParams(1)));
            Tensor ones = torch.ones(1, 16);
            for (int path : PATHS) {
                Tensor y = torch.full(new long[] {1, n}, new Scalar(-1.0));
                m.forwardRows(ones, null, y, path, 2);
                float[] got = floats(y);
                for (int h = 0; h < n; h++) {
                    float want = Float.float16ToFloat((short) h);
                    if (Float.isNaN(want)) {
                        assertThat(got[h]).as("half %04x, path %d", h, path).isNaN();
                    } else {
                        assertThat(Float.floatToRawIntBits(got[h])).as("half %04x, path %d", h, path)
                                .isEqualTo(Float.floatToRawIntBits(want == 0 ? 0.0f : want));
                    }
                }
            }
        }
    }

    @Test
    void givesTheSameBitsOnAnyThreadCountAndForARowAlone() {
        try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(5);
            Tensor w = randn(g, 1001, 384);
            Tensor x = randn(g, 3, 384);
            HalfMatrix h = HalfMatrix.of(w, owner.track(new RandomParams(1)));
            Tensor one = torch.empty(3, 1001);
            h.forwardRows(x, null, one, 3, 1);
            for (int threads : new int[] {2, 3, 7}) {
                for (int rep = 0; rep < 3; rep++) {
                    Tensor y = torch.empty(3, 1001);
                    h.forwardRows(x, null, y, 3, threads);
                    assertThat(floats(y)).as("%d threads", threads).containsExactly(floats(one));
                }
            }
            for (int r = 0; r < 3; r++) {
                Tensor y = torch.empty(1, 1001);
                h.forwardRows(x.narrow(0, r, 1).contiguous(), null, y);
                assertThat(floats(y)).containsExactly(floats(one.select(0, r)));
            }
        }
    }

    @Test
    void aNonFiniteInputSpoilsOnlyItsRowAndBadShapesAreRefused() {
        try (Weights owner = new Weights(); PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(6);
            HalfMatrix h = HalfMatrix.of(randn(g, 40, 64), owner.track(new RandomParams(1)));
            Tensor x = randn(g, 2, 64);
            x.select(0, 1).select(0, 9).fill_(new Scalar(Float.NaN));
            Tensor y = torch.empty(2, 40);
            h.forwardRows(x, null, y);
            assertThat(torch.isfinite(y.select(0, 0)).all().item_bool()).isTrue();
            assertThat(torch.isnan(y.select(0, 1)).all().item_bool()).isTrue();
            assertThatThrownBy(() -> h.forwardRows(torch.zeros(2, 63), null, y))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> h.forwardRows(x, null, torch.zeros(2, 41)))
                    .isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> h.forwardRows(x.t(), null, y)).isInstanceOf(IllegalArgumentException.class);
            assertThatThrownBy(() -> HalfMatrix.of(torch.zeros(3), owner.track(new RandomParams(1))))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }
}
