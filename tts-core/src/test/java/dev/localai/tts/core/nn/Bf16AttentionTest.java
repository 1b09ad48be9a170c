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
 * The bf16 attention kernel ({@link Bf16Attention}), on each of its paths this CPU runs (AMX tiles, AVX512-BF16),
 * against fp32 attention over the same bf16 inputs, next to LibTorch's own bf16 attention measured against the same
 * reference: frame counts around the kernel's blocks of 16 and 32 and up to the flow's longest runs, several seeds
 * and heads, inputs of the flow's magnitudes and larger ones, the thread count, the two paths against each other,
 * and what it refuses. Skipped where the kernel does not run (no AVX512-BF16, or a capped dispatch).
 */
class Bf16AttentionTest {
    private static final double SCALE = 1.0 / Math.sqrt(Bf16Attention.HEAD_DIM);

    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(Bf16Attention.enabled(), "the bf16 attention kernel does not run here (no AVX512-BF16, or a capped "
                + "dispatch)");
    }

    private static Tensor randnBf16(Generator g, double scale, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float))
                .mul_(new Scalar(scale)).to(ScalarType.BFloat16);
    }

    /** (1, T, H*64) -> (1, H, T, 64) */
    private static Tensor heads(Tensor x, long h) {
        return x.view(1, x.size(1), h, Bf16Attention.HEAD_DIM).transpose(1, 2);
    }

    /** LibTorch's attention of (1, T, H*64) rows in the inputs' type, back as (1, T, H*64) */
    private static Tensor libtorch(Tensor q, Tensor k, Tensor v, long h) {
        Tensor o = torch.scaled_dot_product_attention(heads(q, h), heads(k, h), heads(v, h), new TensorOptional(), 0.0,
                false, new DoubleOptional(), false);
        return o.transpose(1, 2).reshape(1, q.size(1), h * Bf16Attention.HEAD_DIM);
    }

    private static Tensor fp32(Tensor t) {
        return t.to(ScalarType.Float);
    }

    /** max |got - ref| / max |ref| */
    private static double err(Tensor got, Tensor ref) {
        return fp32(got).sub(ref).abs().max().item_double() / ref.abs().max().item_double();
    }

    /** The paths this CPU runs. */
    private static int[] paths() {
        return java.util.stream.IntStream.of(Bf16Attention.AMX, Bf16Attention.AVX512_BF16).filter(Bf16Attention::runs)
                .toArray();
    }

    @Test
    void matchesFp32AttentionAsCloselyAsLibTorchsBf16AttentionOnEveryPath() {
        int[] lengths = {1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 257, 544, 1006};
        for (int seed = 1; seed <= 3; seed++) {
            for (int t : lengths) {
                for (double magnitude : new double[] {1.0, 4.0}) {
                    try (PointerScope scope = new PointerScope()) {
                        long h = seed == 2 ? 3 : 8;
                        Generator g = torch.createCPUGenerator(seed * 1009L + t * 31L + (long) magnitude);
                        long w = h * Bf16Attention.HEAD_DIM;
                        Tensor q = randnBf16(g, magnitude, 1, t, w);
                        Tensor k = randnBf16(g, magnitude, 1, t, w);
                        Tensor v = randnBf16(g, 1.0, 1, t, w);
                        Tensor ref = libtorch(fp32(q), fp32(k), fp32(v), h);
                        double theirs = err(libtorch(q, k, v, h), ref);
                        for (int path : paths()) {
                            Tensor got = Bf16Attention.attendOn(path, q, k, v, h, SCALE);
                            assertThat(got.scalar_type().value).isEqualTo(ScalarType.BFloat16.value);
                            assertThat(got.sizes().vec().get()).containsExactly(1, t, w);
                            assertThat(fp32(got).isfinite().all().item_bool()).isTrue();
                            double ours = err(got, ref);
                            // bf16 output alone rounds by up to 2^-9 of a value; both kernels round p to bf16 too
                            assertThat(ours).as("path %d, seed %d, %d frames, magnitude %.0f: LibTorch bf16 %.2e",
                                    path, seed, t, magnitude, theirs).isLessThanOrEqualTo(Math.max(2 * theirs, 8e-3));
                        }
                    }
                }
            }
        }
    }

    @Test
    void theLongestFlowRunStaysAsClose() {
        // upstream's longest: 1000 speech tokens after a 10 s prompt (250 tokens): 2500 frames
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(2500);
            Tensor q = randnBf16(g, 1.0, 1, 2500, 512);
            Tensor k = randnBf16(g, 1.0, 1, 2500, 512);
            Tensor v = randnBf16(g, 1.0, 1, 2500, 512);
            Tensor ref = libtorch(fp32(q), fp32(k), fp32(v), 8);
            for (int path : paths()) {
                assertThat(err(Bf16Attention.attendOn(path, q, k, v, 8, SCALE), ref)).as("path %d", path)
                        .isLessThan(8e-3);
            }
        }
    }

    @Test
    void aNonFiniteInputComesOutNonFiniteWithoutHarm() {
        for (int path : paths()) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(31);
                Tensor q = randnBf16(g, 1.0, 1, 40, 512);
                Tensor k = randnBf16(g, 1.0, 1, 40, 512);
                Tensor v = randnBf16(g, 1.0, 1, 40, 512);
                v.select(1, 7).fill_(new Scalar(Float.NaN));
                Tensor got = fp32(Bf16Attention.attendOn(path, q, k, v, 8, SCALE));
                // every frame attends to frame 7: NaN everywhere, which the flow's finite check then reports
                assertThat(got.isnan().all().item_bool()).as("path %d", path).isTrue();
            }
        }
    }

    @Test
    void oneFrameAttendsOnlyToItself() {
        for (int path : paths()) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(5);
                Tensor q = randnBf16(g, 1.0, 1, 1, 512);
                Tensor v = randnBf16(g, 1.0, 1, 1, 512);
                Tensor got = Bf16Attention.attendOn(path, q, randnBf16(g, 1.0, 1, 1, 512), v, 8, SCALE);
                // softmax over one key is exactly 1: the value comes back to the bit
                assertThat(torch.equal(got, v)).as("path %d", path).isTrue();
            }
        }
    }

    @Test
    void thePathsAgreeToRounding() {
        assumeTrue(paths().length == 2, "one path runs here");
        for (int t : new int[] {7, 64, 545}) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(17L + t);
                Tensor q = randnBf16(g, 2.0, 1, t, 512);
                Tensor k = randnBf16(g, 2.0, 1, t, 512);
                Tensor v = randnBf16(g, 1.0, 1, t, 512);
                Tensor amx = fp32(Bf16Attention.attendOn(Bf16Attention.AMX, q, k, v, 8, SCALE));
                Tensor avx = Bf16Attention.attendOn(Bf16Attention.AVX512_BF16, q, k, v, 8, SCALE);
                assertThat(err(avx, amx)).as("%d frames", t).isLessThan(1.6e-2);
            }
        }
    }

    @Test
    void packedRowsGiveTheBitsOfSeparateTensors() {
        for (int t : new int[] {1, 17, 272, 545}) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(t);
                Tensor qkv = torch.randn(new long[] {1, t, 3 * 512}, new GeneratorOptional(g),
                        new TensorOptions(ScalarType.Float)).to(ScalarType.BFloat16);
                assertThat(Bf16Attention.takesPacked(qkv, 8)).isTrue();
                assertThat(Bf16Attention.takesPacked(qkv.narrow(2, 0, 512), 8)).isFalse();
                Tensor packed = Bf16Attention.attendPacked(qkv, 8, 0.125);
                Tensor apart = Bf16Attention.attend(qkv.narrow(2, 0, 512).contiguous(),
                        qkv.narrow(2, 512, 512).contiguous(), qkv.narrow(2, 1024, 512).contiguous(), 8, 0.125);
                assertThat(packed.sizes().vec().get()).containsExactly(1, t, 512);
                assertThat(torch.equal(packed, apart)).as("%d frames", t).isTrue();
            }
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
            for (int path : paths()) {
                torch.set_num_threads(1);
                Tensor one = Bf16Attention.attendOn(path, q, k, v, 8, SCALE);
                Tensor again = Bf16Attention.attendOn(path, q, k, v, 8, SCALE);
                assertThat(torch.equal(one, again)).as("path %d", path).isTrue();
                // explicit counts, not this machine's default (one thread on a 2-vCPU box would compare one with one):
                // fewer threads than heads, more than heads, more than (head, block) pairs
                for (int n : new int[] {2, 3, 8, 16, 64}) {
                    torch.set_num_threads(n);
                    Tensor many = Bf16Attention.attendOn(path, q, k, v, 8, SCALE);
                    assertThat(torch.equal(many, one)).as("path %d, %d threads", path, n).isTrue();
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void takesOnlyContiguousBf16RowsOfHeadsOf64() {
        try (PointerScope scope = new PointerScope()) {
            Tensor ok = torch.zeros(1, 10, 512).to(ScalarType.BFloat16);
            assertThat(Bf16Attention.takes(ok, ok, ok, 8)).isTrue();
            assertThat(Bf16Attention.takes(ok, ok, ok, 4)).isFalse(); // heads of 128
            Tensor f = torch.zeros(1, 10, 512);
            assertThat(Bf16Attention.takes(f, f, f, 8)).isFalse();
            Tensor strided = torch.zeros(1, 512, 10).to(ScalarType.BFloat16).transpose(1, 2);
            assertThat(Bf16Attention.takes(strided, strided, strided, 8)).isFalse();
            Tensor batch = torch.zeros(2, 10, 512).to(ScalarType.BFloat16);
            assertThat(Bf16Attention.takes(batch, batch, batch, 8)).isFalse();
            Tensor shorter = torch.zeros(1, 9, 512).to(ScalarType.BFloat16);
            assertThat(Bf16Attention.takes(ok, shorter, ok, 8)).isFalse();
            assertThatThrownBy(() -> Bf16Attention.attend(f, f, f, 8, SCALE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bf16");
            assertThatThrownBy(() -> Bf16Attention.attend(ok, ok, ok, 8, 0.0))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scale");
        }
    }
}
