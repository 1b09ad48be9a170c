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
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link LayerNorm#forwardMish} on the native kernel ({@link NormMishKernel}) against double precision, beside
 * LibTorch's three operations against the same reference: channel counts around the kernel's eight lanes up to the
 * flow's 320, rows, magnitudes, with and without the per-channel add, fp32 and bf16; the thread count; non-finite
 * values; and the fallback for what the kernel does not take.
 */
class NormMishKernelTest {
    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(NormMishKernel.supported(), "the native kernels are not loaded here");
    }

    @AfterEach
    void restore() {
        NormMishKernel.use(true);
    }

    private static Tensor randn(Generator g, double scale, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float)).mul_(new Scalar(scale));
    }

    /** mish(layer_norm(x)) + add in double, from the given (already rounded) values */
    private static Tensor reference(Tensor x, Tensor w, Tensor b, Tensor add, double eps) {
        Tensor d = x.to(ScalarType.Double);
        Tensor y = torch.mish(torch.layer_norm(d, new long[] {x.size(-1)}, new TensorOptional(w.to(ScalarType.Double)),
                new TensorOptional(b.to(ScalarType.Double)), eps, false));
        return add == null ? y : y.add(add.to(ScalarType.Double));
    }

    private static Tensor libtorch(Tensor x, Tensor w, Tensor b, Tensor add, double eps) {
        Tensor y = torch.mish(torch.layer_norm(x, new long[] {x.size(-1)}, new TensorOptional(w),
                new TensorOptional(b), eps, false));
        return add == null ? y : y.add(add);
    }

    @Test
    void fp32MatchesDoublePrecisionAsCloselyAsLibTorch() {
        for (int c : new int[] {1, 7, 8, 13, 80, 256, 320}) {
            for (int rows : new int[] {1, 3, 544}) {
                for (double magnitude : new double[] {1.0, 30.0}) {
                    for (boolean withAdd : new boolean[] {false, true}) {
                        try (PointerScope scope = new PointerScope()) {
                            Generator g = torch.createCPUGenerator(c * 1009L + rows * 17L + (long) magnitude);
                            Tensor x = randn(g, magnitude, 1, rows, c).add_(randn(g, 3.0, c));
                            Tensor w = randn(g, 0.5, c).add_(new Scalar(1.0));
                            Tensor b = randn(g, 0.5, c);
                            Tensor add = withAdd ? randn(g, 1.0, c) : null;
                            LayerNorm ln = LayerNorm.of(w, b, 1e-5);
                            Tensor got = ln.forwardMish(x, add);
                            assertThat(got.sizes().vec().get()).containsExactly(1, rows, c);
                            Tensor ref = reference(x, w, b, add, 1e-5);
                            double ours = got.to(ScalarType.Double).sub(ref).abs().max().item_double();
                            double theirs = libtorch(x, w, b, add, 1e-5).to(ScalarType.Double).sub(ref).abs().max()
                                    .item_double();
                            double scale = ref.abs().max().item_double();
                            assertThat(ours).as("c %d rows %d magnitude %.0f add %s: LibTorch %.2e", c, rows,
                                    magnitude, withAdd, theirs).isLessThanOrEqualTo(Math.max(4 * theirs, 2e-6 * scale));
                        }
                    }
                }
            }
        }
    }

    @Test
    void bf16IsRoundedOnceFromFp32() {
        for (int c : new int[] {8, 13, 256, 320}) {
            for (int rows : new int[] {1, 544}) {
                for (boolean withAdd : new boolean[] {false, true}) {
                    try (PointerScope scope = new PointerScope()) {
                        Generator g = torch.createCPUGenerator(c * 31L + rows);
                        Tensor x = randn(g, 4.0, 1, rows, c).to(ScalarType.BFloat16);
                        Tensor w = randn(g, 0.5, c).add_(new Scalar(1.0)).to(ScalarType.BFloat16);
                        Tensor b = randn(g, 0.5, c).to(ScalarType.BFloat16);
                        Tensor add = withAdd ? randn(g, 1.0, c).to(ScalarType.BFloat16) : null;
                        Tensor got = LayerNorm.of(w, b, 1e-5).forwardMish(x, add);
                        assertThat(got.scalar_type().value).isEqualTo(ScalarType.BFloat16.value);
                        Tensor ref = reference(x, w, b, add, 1e-5);
                        // one rounding to bf16 (8 significant bits: half a unit is 2^-8 of the value) of an fp32 result
                        Tensor excess = got.to(ScalarType.Double).sub(ref).abs()
                                .sub(ref.abs().mul(new Scalar(Math.pow(2, -8)))).sub(new Scalar(1e-5));
                        assertThat(excess.max().item_double()).as("c %d rows %d add %s", c, rows, withAdd)
                                .isLessThanOrEqualTo(0);
                    }
                }
            }
        }
    }

    @Test
    void theThreadCountChangesNoBit() {
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(5);
            for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                Tensor x = randn(g, 2.0, 1, 544, 256).to(type);
                Tensor w = randn(g, 0.5, 256).to(type);
                Tensor b = randn(g, 0.5, 256).to(type);
                Tensor add = randn(g, 0.5, 256).to(type);
                torch.set_num_threads(1);
                Tensor one = NormMishKernel.normMish(x, w, b, 1e-5, add);
                for (int n : new int[] {2, 3, 16}) {
                    torch.set_num_threads(n);
                    Tensor many = NormMishKernel.normMish(x, w, b, 1e-5, add);
                    assertThat(torch.equal(one, many)).as("%s at %d threads", type, n).isTrue();
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void everyCloneThisCpuRunsGivesTheSameBits() {
        int before = NativeKernels.cloneLevel(-1);
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(13);
            for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                Tensor x = randn(g, 3.0, 1, 37, 320).to(type);
                Tensor w = randn(g, 0.5, 320).to(type);
                Tensor b = randn(g, 0.5, 320).to(type);
                Tensor add = randn(g, 0.5, 320).to(type);
                NativeKernels.cloneLevel(0);
                Tensor plain = NormMishKernel.normMish(x, w, b, 1e-5, add);
                for (int level = 1; level <= 2; level++) {
                    int got = NativeKernels.cloneLevel(level);
                    assertThat(torch.equal(NormMishKernel.normMish(x, w, b, 1e-5, add), plain))
                            .as("%s, clone %d", type, got).isTrue();
                }
            }
        } finally {
            NativeKernels.cloneLevel(before);
        }
    }

    @Test
    void aNonFiniteRowStaysItsOwnAndLargeValuesPassThrough() {
        try (PointerScope scope = new PointerScope()) {
            float[] v = new float[3 * 16];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.sin(i);
            }
            v[16 + 5] = Float.NaN; // row 1
            Tensor x = torch.from_blob(new org.bytedeco.javacpp.FloatPointer(v), new long[] {3, 16},
                    new TensorOptions(ScalarType.Float)).clone();
            Tensor w = torch.ones(16);
            Tensor b = torch.zeros(16);
            Tensor big = torch.full(new long[] {16}, new Scalar(100.0)); // y = norm + 100: mish(y) = y
            Tensor got = LayerNorm.of(w, b, 1e-5).forwardMish(x, null);
            assertThat(torch.isnan(got.select(0, 1)).all().item_bool()).isTrue();
            assertThat(torch.isfinite(got.select(0, 0)).all().item_bool()).isTrue();
            assertThat(torch.isfinite(got.select(0, 2)).all().item_bool()).isTrue();
            Tensor shifted = LayerNorm.of(w, big, 1e-5).forwardMish(x.narrow(0, 0, 1).contiguous(), null);
            Tensor norm = torch.layer_norm(x.narrow(0, 0, 1), new long[] {16}, new TensorOptional(w),
                    new TensorOptional(b), 1e-5, false).add(new Scalar(100.0));
            assertThat(shifted.sub(norm).abs().max().item_double()).isLessThan(1e-4);
        }
    }

    @Test
    void whatTheKernelDoesNotTakeGoesToLibTorch() {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(9);
            Tensor x = randn(g, 1.0, 1, 40, 32);
            Tensor w = randn(g, 0.5, 32);
            Tensor b = randn(g, 0.5, 32);
            LayerNorm ln = LayerNorm.of(w, b, 1e-5);
            Tensor strided = x.transpose(1, 2).contiguous().transpose(1, 2); // not contiguous
            assertThat(NormMishKernel.takes(strided, w, b, null)).isFalse();
            assertThat(NormMishKernel.takes(x.to(ScalarType.Double), w, b, null)).isFalse();
            assertThat(NormMishKernel.takes(x, w.to(ScalarType.BFloat16), b, null)).isFalse();
            assertThat(NormMishKernel.takes(x, w, b, torch.zeros(31))).isFalse();
            Tensor ref = libtorch(x, w, b, null, 1e-5);
            assertThat(ln.forwardMish(strided, null).sub(ref).abs().max().item_double()).isLessThan(1e-6);
            NormMishKernel.use(false);
            assertThat(NormMishKernel.takes(x, w, b, null)).isFalse();
            assertThat(torch.equal(ln.forwardMish(x, null), ref)).isTrue();
        }
    }
}
