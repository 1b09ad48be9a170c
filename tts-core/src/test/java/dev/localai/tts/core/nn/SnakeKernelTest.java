package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link SnakeKernel} against double precision, beside LibTorch's five operations against the same reference: channel
 * counts around the kernel's vector widths up to HiFT's 256, lengths, batches, both layouts, magnitudes up to where
 * the kernel hands elements to libm's sine; the thread count; non-finite values; and what it does not take.
 */
class SnakeKernelTest {
    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(SnakeKernel.supported(), "the native kernels are not loaded here");
    }

    @AfterEach
    void restore() {
        SnakeKernel.use(true);
    }

    private static Tensor randn(Generator g, double scale, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float)).mul_(new Scalar(scale));
    }

    /** HiFT's per-channel alpha, (C, 1): magnitudes from 0.05 to 5, some negative, and its 1 / (alpha + 1e-9) */
    private static Tensor[] alphas(Generator g, long c) {
        Tensor alpha = randn(g, 1.5, c, 1).exp_().mul_(new Scalar(0.5)).clamp_(new org.bytedeco.pytorch.ScalarOptional(new Scalar(0.05)),
                new org.bytedeco.pytorch.ScalarOptional(new Scalar(5.0)));
        alpha.narrow(0, 0, c / 3).neg_();
        Tensor inv = alpha.add(new Scalar(1e-9)).reciprocal();
        return new Tensor[] {alpha, inv};
    }

    /** LibTorch's operations, as the model ran them before the kernel */
    private static Tensor libtorch(Tensor x, Tensor alpha, Tensor inv) {
        Tensor s = x.mul(alpha);
        s.sin_();
        s.mul_(s);
        s.mul_(inv);
        return s.add_(x);
    }

    /** x + inv sin(y)^2 in double from the same rounded y = x alpha both float versions start from */
    private static Tensor reference(Tensor x, Tensor alpha, Tensor inv) {
        Tensor y = x.mul(alpha).to(ScalarType.Double);
        return y.sin().square().mul(inv.to(ScalarType.Double)).add(x.to(ScalarType.Double));
    }

    private static Tensor channelsLast(Tensor x) {
        return x.transpose(1, 2).contiguous().transpose(1, 2);
    }

    @Test
    void matchesDoublePrecisionAsCloselyAsLibTorchInBothLayouts() {
        for (int c : new int[] {1, 7, 16, 33, 64, 256}) {
            for (int t : new int[] {1, 5, 17, 1000}) {
                for (int b : new int[] {1, 2}) {
                    for (double magnitude : new double[] {0.01, 1.0, 30.0, 3000.0}) {
                        for (boolean last : new boolean[] {false, true}) {
                            try (PointerScope scope = new PointerScope()) {
                                Generator g = torch.createCPUGenerator(c * 1009L + t * 17L + b + (long) magnitude);
                                Tensor[] a = alphas(g, c);
                                Tensor x = randn(g, magnitude, b, c, t);
                                if (last) {
                                    x = channelsLast(x);
                                }
                                assertThat(SnakeKernel.takes(x, a[0], a[1])).isTrue();
                                Tensor got = SnakeKernel.snake(x, a[0], a[1]);
                                assertThat(got.sizes().vec().get()).containsExactly(b, c, t);
                                assertThat(new long[] {got.stride(0), got.stride(1), got.stride(2)})
                                        .containsExactly(x.stride(0), x.stride(1), x.stride(2));
                                Tensor ref = reference(x, a[0], a[1]);
                                // each element within a few units in the last place of the larger of its two terms
                                Tensor unit = x.abs().to(ScalarType.Double).add(inv(a[1]).expand(b, c, t))
                                        .mul(new Scalar(Math.pow(2, -23)));
                                double ours = got.to(ScalarType.Double).sub(ref).abs().div(unit).max().item_double();
                                double theirs = libtorch(x, a[0], a[1]).to(ScalarType.Double).sub(ref).abs().div(unit)
                                        .max().item_double();
                                assertThat(ours).as("c %d t %d b %d magnitude %.2f channels-last %s: LibTorch %.2f",
                                        c, t, b, magnitude, last, theirs).isLessThanOrEqualTo(Math.max(4.0, theirs));
                            }
                        }
                    }
                }
            }
        }
    }

    private static Tensor inv(Tensor inv) {
        return inv.abs().to(ScalarType.Double).view(1, inv.numel(), 1);
    }

    @Test
    void bothLayoutsAndEveryThreadCountGiveTheSameBits() {
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(5);
            Tensor[] a = alphas(g, 64);
            Tensor x = randn(g, 3.0, 1, 64, 7681);
            x.view(-1).narrow(0, 100, 3).mul_(new Scalar(1e4)); // a few elements for libm's sine
            torch.set_num_threads(1);
            Tensor one = SnakeKernel.snake(x, a[0], a[1]);
            for (int n : new int[] {2, 3, 16}) {
                torch.set_num_threads(n);
                assertThat(torch.equal(one, SnakeKernel.snake(x, a[0], a[1]))).as("%d threads", n).isTrue();
                Tensor last = SnakeKernel.snake(channelsLast(x), a[0], a[1]);
                assertThat(torch.equal(one, last)).as("channels-last at %d threads", n).isTrue();
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void everyCloneThisCpuRunsGivesTheSameBits() {
        int before = NativeKernels.cloneLevel(-1);
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(11);
            Tensor[] a = alphas(g, 33);
            Tensor x = randn(g, 20.0, 2, 33, 517);
            x.view(-1).narrow(0, 7, 5).mul_(new Scalar(1e4)); // and libm's sine for a few
            Tensor last = channelsLast(x);
            NativeKernels.cloneLevel(0);
            Tensor plain = SnakeKernel.snake(x, a[0], a[1]);
            Tensor plainLast = SnakeKernel.snake(last, a[0], a[1]);
            for (int level = 1; level <= 2; level++) {
                int got = NativeKernels.cloneLevel(level);
                assertThat(torch.equal(SnakeKernel.snake(x, a[0], a[1]), plain)).as("clone %d", got).isTrue();
                assertThat(torch.equal(SnakeKernel.snake(last, a[0], a[1]), plainLast)).as("clone %d", got).isTrue();
            }
        } finally {
            NativeKernels.cloneLevel(before);
        }
    }

    @Test
    void nonFiniteInputsGiveNaNAndLargeOnesStayAccurate() {
        try (PointerScope scope = new PointerScope()) {
            float[] v = {0f, 1f, -2.5f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 1e5f, -3e7f,
                1e30f, 8191f, 8193f, 12867f};
            Tensor x = torch.from_blob(new FloatPointer(v), new long[] {1, 1, v.length},
                    new TensorOptions(ScalarType.Float)).clone();
            Tensor alpha = torch.full(new long[] {1, 1}, new Scalar(1.0));
            Tensor inv = alpha.add(new Scalar(1e-9)).reciprocal();
            Tensor got = SnakeKernel.snake(x, alpha, inv);
            Tensor nonFinite = torch.isnan(got.view(-1).narrow(0, 3, 3));
            assertThat(nonFinite.all().item_bool()).as("NaN and both infinities give NaN, as sin does").isTrue();
            Tensor finite = torch.cat(new org.bytedeco.pytorch.TensorVector(got.view(-1).narrow(0, 0, 3),
                    got.view(-1).narrow(0, 6, v.length - 6)));
            Tensor xs = torch.cat(new org.bytedeco.pytorch.TensorVector(x.view(-1).narrow(0, 0, 3),
                    x.view(-1).narrow(0, 6, v.length - 6)));
            Tensor ref = xs.to(ScalarType.Double).sin().square().add(xs.to(ScalarType.Double));
            Tensor err = finite.to(ScalarType.Double).sub(ref).abs()
                    .div(xs.abs().to(ScalarType.Double).add(new Scalar(1.0)).mul(new Scalar(Math.pow(2, -23))));
            assertThat(err.max().item_double()).isLessThanOrEqualTo(4.0);
        }
    }

    @Test
    void whatTheKernelDoesNotTakeGoesToLibTorch() {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(9);
            Tensor[] a = alphas(g, 32);
            Tensor x = randn(g, 1.0, 1, 32, 40);
            assertThat(SnakeKernel.takes(x.narrow(2, 0, 20), a[0], a[1])).as("a strided view").isFalse();
            assertThat(SnakeKernel.takes(x.to(ScalarType.Double), a[0], a[1])).isFalse();
            assertThat(SnakeKernel.takes(x.to(ScalarType.BFloat16), a[0], a[1])).isFalse();
            assertThat(SnakeKernel.takes(x.view(32, 40), a[0], a[1])).isFalse();
            assertThat(SnakeKernel.takes(x, a[0].narrow(0, 0, 31), a[1])).isFalse();
            assertThat(SnakeKernel.takes(x, a[0], a[1].to(ScalarType.Double))).isFalse();
            SnakeKernel.use(false);
            assertThat(SnakeKernel.takes(x, a[0], a[1])).isFalse();
        }
    }
}
