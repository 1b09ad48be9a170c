package dev.localai.tts.core.nn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relative-position attention kernels ({@link Bf16Attention#attendRelative}, {@link Fp32Attention#attendRelative}),
 * the S3Gen encoder's conformer attention: against the same attention in double precision (upstream's maths: scores
 * {@code qu k^T}, position terms {@code qv p^T} shifted so query i and key j meet position row T - 1 - i + j, their sum
 * scaled, the softmax, the values), over lengths that do and do not fill the kernels' blocks of sixteen queries (one
 * frame included), several seeds: bf16 at least as close as LibTorch's bf16 path (the module's own ops), fp32 within
 * fp32 rounding on every path the CPU runs; the same bits at one thread and two; finite with large scores; tensors of
 * other shapes refused.
 */
class RelativeAttentionTest {
    private static final long[] LENGTHS = {1, 2, 15, 16, 17, 33, 100, 275, 550};

    @BeforeAll
    static void load() {
        Torch.load();
    }

    @AfterEach
    void threads() {
        torch.set_num_threads(Math.max(1, Math.min(2, Runtime.getRuntime().availableProcessors())));
    }

    /** qu, qv, k, v (1, T, heads * 64) and p (1, 2T - 1, heads * 64), random, in {@code type}. */
    private static Tensor[] inputs(long t, long heads, ScalarType type, double magnitude) {
        long w = heads * 64;
        Scalar m = new Scalar(magnitude);
        return new Tensor[] {torch.randn(1, t, w).mul(m).to(type), torch.randn(1, t, w).mul(m).to(type),
            torch.randn(1, t, w).to(type), torch.randn(1, t, w).to(type), torch.randn(1, 2 * t - 1, w).to(type)};
    }

    /**
     * The attention as the conformer module computes it, in {@code type}: matmuls, the shift as a strided view (its
     * {@code relShift}), the sum divided by sqrt(64), LibTorch's softmax, the values.
     */
    static Tensor reference(Tensor[] in, long heads, ScalarType type) {
        long t = in[0].size(1);
        Tensor qu = in[0].to(type).view(1, t, heads, 64).transpose(1, 2);
        Tensor qv = in[1].to(type).view(1, t, heads, 64).transpose(1, 2);
        Tensor k = in[2].to(type).view(1, t, heads, 64).transpose(1, 2);
        Tensor v = in[3].to(type).view(1, t, heads, 64).transpose(1, 2);
        Tensor p = in[4].to(type).view(1, 2 * t - 1, heads, 64).transpose(1, 2);
        Tensor ac = torch.matmul(qu, k.transpose(-2, -1));
        Tensor bd = torch.matmul(qv, p.transpose(-2, -1)).contiguous(); // (1, H, T, 2T - 1)
        long t2 = 2 * t - 1;
        Tensor shifted = bd.as_strided(new long[] {1, heads, t, t}, new long[] {heads * t * t2, t * t2, t2 - 1, 1},
                new LongOptional(t - 1));
        Tensor attn = torch.softmax(ac.add_(shifted).div_(new Scalar(8.0)), -1);
        return torch.matmul(attn, v).transpose(1, 2).reshape(1, t, heads * 64);
    }

    private static double rel(Tensor got, Tensor ref) {
        Tensor d = got.to(ScalarType.Double);
        return d.sub(ref).norm().item_double() / ref.norm().item_double();
    }

    @Test
    void bf16IsAtLeastAsCloseToTheExactAttentionAsLibTorchsPath() {
        assumeTrue(Bf16Attention.enabled(), "the bf16 kernel does not run here (no AVX512-BF16, or capped)");
        int checked = 0;
        for (long seed = 1; seed <= 3; seed++) {
            for (long t : LENGTHS) {
                for (long heads : seed == 1 ? new long[] {8, 2} : new long[] {8}) {
                    try (PointerScope scope = new PointerScope()) {
                        torch.manual_seed(seed * 1000 + t);
                        Tensor[] in = inputs(t, heads, ScalarType.BFloat16, 1.0);
                        Tensor got = Bf16Attention.attendRelative(in[0], in[1], in[2], in[3], in[4], heads, 0.125);
                        assertThat(got.sizes().vec().get()).containsExactly(1, t, heads * 64);
                        assertThat(got.scalar_type().value).isEqualTo(ScalarType.BFloat16.value);
                        Tensor exact = reference(in, heads, ScalarType.Double);
                        double e = rel(got, exact);
                        double lib = rel(reference(in, heads, ScalarType.BFloat16), exact);
                        assertThat(e).as("T %d, %d heads, seed %d (LibTorch's bf16 path: %.2e)", t, heads, seed, lib)
                                .isLessThan(Math.max(4e-3, 1.1 * lib));
                        checked++;
                    }
                }
            }
        }
        assertThat(checked).isEqualTo(3 * LENGTHS.length + LENGTHS.length);
    }

    @Test
    void fp32IsWithinFp32RoundingOnEveryPathTheCpuRuns() {
        int paths = 0;
        for (int path : new int[] {Fp32Attention.SSE41, Fp32Attention.AVX, Fp32Attention.AVX2,
                Fp32Attention.AVX512}) {
            if (!Fp32Attention.runs(path)) {
                continue;
            }
            paths++;
            for (long seed = 1; seed <= 2; seed++) {
                for (long t : LENGTHS) {
                    try (PointerScope scope = new PointerScope()) {
                        torch.manual_seed(seed * 1000 + t);
                        Tensor[] in = inputs(t, 8, ScalarType.Float, 1.0);
                        Tensor got = Fp32Attention.relativeOn(path, in[0], in[1], in[2], in[3], in[4], 8, 0.125);
                        Tensor exact = reference(in, 8, ScalarType.Double);
                        assertThat(rel(got, exact)).as("path %d, T %d, seed %d", path, t, seed).isLessThan(2e-6);
                    }
                }
            }
        }
        assumeTrue(paths > 0, "no fp32 kernel path runs here (no SSE4.1)");
    }

    @Test
    void theResultDoesNotDependOnTheThreadCount() {
        assumeTrue(Runtime.getRuntime().availableProcessors() >= 2, "one core");
        for (long t : new long[] {17, 275}) {
            try (PointerScope scope = new PointerScope()) {
                torch.manual_seed(t);
                Tensor[] bf = inputs(t, 8, ScalarType.BFloat16, 1.0);
                Tensor[] fp = inputs(t, 8, ScalarType.Float, 1.0);
                Tensor[][] runs = new Tensor[2][];
                for (int n = 1; n <= 2; n++) {
                    torch.set_num_threads(n);
                    runs[n - 1] = new Tensor[] {
                        Bf16Attention.enabled() ? Bf16Attention.attendRelative(bf[0], bf[1], bf[2], bf[3], bf[4], 8, 0.125)
                                : null,
                        Fp32Attention.enabled() ? Fp32Attention.attendRelative(fp[0], fp[1], fp[2], fp[3], fp[4], 8, 0.125)
                                : null};
                }
                for (int i = 0; i < 2; i++) {
                    if (runs[0][i] != null) {
                        assertThat(torch.equal(runs[0][i], runs[1][i])).as("T %d, %s", t, i == 0 ? "bf16" : "fp32")
                                .isTrue();
                    }
                }
            }
        }
    }

    @Test
    void largeScoresStayFinite() {
        try (PointerScope scope = new PointerScope()) {
            torch.manual_seed(5);
            Tensor[] fp = inputs(100, 8, ScalarType.Float, 300.0);
            if (Fp32Attention.enabled()) {
                Tensor got = Fp32Attention.attendRelative(fp[0], fp[1], fp[2], fp[3], fp[4], 8, 0.125);
                assertThat(torch.isfinite(got).all().item_bool()).isTrue();
                assertThat(rel(got, reference(fp, 8, ScalarType.Double))).isLessThan(1e-3);
            }
            Tensor[] bf = inputs(100, 8, ScalarType.BFloat16, 300.0);
            if (Bf16Attention.enabled()) {
                Tensor got = Bf16Attention.attendRelative(bf[0], bf[1], bf[2], bf[3], bf[4], 8, 0.125);
                assertThat(torch.isfinite(got).all().item_bool()).isTrue();
            }
        }
    }

    @Test
    void tensorsOfOtherShapesAreRefused() {
        try (PointerScope scope = new PointerScope()) {
            for (ScalarType type : new ScalarType[] {ScalarType.Float, ScalarType.BFloat16}) {
                Tensor[] in = inputs(20, 8, type, 1.0);
                Tensor shortP = torch.randn(1, 38, 512).to(type);
                Tensor otherHeads = torch.randn(1, 20, 256).to(type);
                assertThat(Bf16Attention.takesRelative(in[0], in[1], in[2], in[3], shortP, 8)).isFalse();
                assertThat(Fp32Attention.takesRelative(in[0], in[1], in[2], in[3], shortP, 8)).isFalse();
                assertThat(Bf16Attention.takesRelative(in[0], otherHeads, in[2], in[3], in[4], 8)).isFalse();
                assertThat(Fp32Attention.takesRelative(in[0], otherHeads, in[2], in[3], in[4], 8)).isFalse();
                assertThatThrownBy(() -> Bf16Attention.attendRelative(in[0], in[1], in[2], in[3], shortP, 8, 0.125))
                        .isInstanceOf(IllegalArgumentException.class);
                assertThatThrownBy(() -> Fp32Attention.attendRelative(in[0], in[1], in[2], in[3], shortP, 8, 0.125))
                        .isInstanceOf(IllegalArgumentException.class);
            }
        }
    }
}
