package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.DoubleOptional;
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

/**
 * The AMX attention ({@link AmxAttention}) against fp32 attention over the same bf16 inputs, next to LibTorch's own
 * bf16 attention measured against the same reference: frame counts around the kernel's blocks of 16 and 32 and up
 * to the flow's longest runs, several seeds and heads, inputs of the flow's magnitudes and larger ones, the thread
 * count, and what it refuses. Skipped where the kernel does not run (no AMX, or a capped dispatch).
 */
class AmxAttentionTest {
    private static final double SCALE = 1.0 / Math.sqrt(AmxAttention.HEAD_DIM);

    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(AmxAttention.enabled(), "AMX attention does not run here (no AMX, or a capped dispatch)");
    }

    private static Tensor randnBf16(Generator g, double scale, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float))
                .mul_(new Scalar(scale)).to(ScalarType.BFloat16);
    }

    /** (1, T, H*64) -> (1, H, T, 64) */
    private static Tensor heads(Tensor x, long h) {
        return x.view(1, x.size(1), h, AmxAttention.HEAD_DIM).transpose(1, 2);
    }

    /** LibTorch's attention of (1, T, H*64) rows in the inputs' type, back as (1, T, H*64) */
    private static Tensor libtorch(Tensor q, Tensor k, Tensor v, long h) {
        Tensor o = torch.scaled_dot_product_attention(heads(q, h), heads(k, h), heads(v, h), new TensorOptional(), 0.0,
                false, new DoubleOptional(), false);
        return o.transpose(1, 2).reshape(1, q.size(1), h * AmxAttention.HEAD_DIM);
    }

    private static Tensor fp32(Tensor t) {
        return t.to(ScalarType.Float);
    }

    /** max |got - ref| / max |ref| */
    private static double err(Tensor got, Tensor ref) {
        return fp32(got).sub(ref).abs().max().item_double() / ref.abs().max().item_double();
    }

    @Test
    void matchesFp32AttentionAsCloselyAsLibTorchsBf16Attention() {
        int[] lengths = {1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 257, 544, 1006};
        for (int seed = 1; seed <= 3; seed++) {
            for (int t : lengths) {
                for (double magnitude : new double[] {1.0, 4.0}) {
                    try (PointerScope scope = new PointerScope()) {
                        long h = seed == 2 ? 3 : 8;
                        Generator g = torch.createCPUGenerator(seed * 1009L + t * 31L + (long) magnitude);
                        long w = h * AmxAttention.HEAD_DIM;
                        Tensor q = randnBf16(g, magnitude, 1, t, w);
                        Tensor k = randnBf16(g, magnitude, 1, t, w);
                        Tensor v = randnBf16(g, 1.0, 1, t, w);
                        Tensor ref = libtorch(fp32(q), fp32(k), fp32(v), h);
                        Tensor got = AmxAttention.attend(q, k, v, h, SCALE);
                        assertThat(got.scalar_type().value).isEqualTo(ScalarType.BFloat16.value);
                        assertThat(got.sizes().vec().get()).containsExactly(1, t, w);
                        assertThat(fp32(got).isfinite().all().item_bool()).isTrue();
                        double ours = err(got, ref);
                        double theirs = err(libtorch(q, k, v, h), ref);
                        // bf16 output alone rounds by up to 2^-9 of a value; both kernels round p to bf16 too
                        assertThat(ours).as("seed %d, %d frames, magnitude %.0f: LibTorch bf16 %.2e", seed, t,
                                magnitude, theirs).isLessThanOrEqualTo(Math.max(2 * theirs, 8e-3));
                    }
                }
            }
        }
    }

    @Test
    void oneFrameAttendsOnlyToItself() {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(5);
            Tensor q = randnBf16(g, 1.0, 1, 1, 512);
            Tensor v = randnBf16(g, 1.0, 1, 1, 512);
            Tensor got = AmxAttention.attend(q, randnBf16(g, 1.0, 1, 1, 512), v, 8, SCALE);
            // softmax over one key is exactly 1: the value comes back to the bit
            assertThat(torch.equal(got, v)).isTrue();
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(11);
            Tensor q = randnBf16(g, 2.0, 1, 300, 512);
            Tensor k = randnBf16(g, 2.0, 1, 300, 512);
            Tensor v = randnBf16(g, 1.0, 1, 300, 512);
            Tensor many = AmxAttention.attend(q, k, v, 8, SCALE);
            torch.set_num_threads(1);
            Tensor one = AmxAttention.attend(q, k, v, 8, SCALE);
            Tensor again = AmxAttention.attend(q, k, v, 8, SCALE);
            assertThat(torch.equal(many, one)).isTrue();
            assertThat(torch.equal(one, again)).isTrue();
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void takesOnlyContiguousBf16RowsOfHeadsOf64() {
        try (PointerScope scope = new PointerScope()) {
            Tensor ok = torch.zeros(1, 10, 512).to(ScalarType.BFloat16);
            assertThat(AmxAttention.takes(ok, ok, ok, 8)).isTrue();
            assertThat(AmxAttention.takes(ok, ok, ok, 4)).isFalse(); // heads of 128
            Tensor f = torch.zeros(1, 10, 512);
            assertThat(AmxAttention.takes(f, f, f, 8)).isFalse();
            Tensor strided = torch.zeros(1, 512, 10).to(ScalarType.BFloat16).transpose(1, 2);
            assertThat(AmxAttention.takes(strided, strided, strided, 8)).isFalse();
            Tensor batch = torch.zeros(2, 10, 512).to(ScalarType.BFloat16);
            assertThat(AmxAttention.takes(batch, batch, batch, 8)).isFalse();
            Tensor shorter = torch.zeros(1, 9, 512).to(ScalarType.BFloat16);
            assertThat(AmxAttention.takes(ok, shorter, ok, 8)).isFalse();
            assertThatThrownBy(() -> AmxAttention.attend(f, f, f, 8, SCALE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bf16");
            assertThatThrownBy(() -> AmxAttention.attend(ok, ok, ok, 8, 0.0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scale");
        }
    }
}
