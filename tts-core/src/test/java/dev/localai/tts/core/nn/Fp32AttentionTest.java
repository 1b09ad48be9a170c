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
 * The fp32 attention kernel ({@link Fp32Attention}) against double-precision attention, next to LibTorch's fp32
 * attention against the same reference: frame counts around its blocks of 16 up to the flow's longest runs, seeds,
 * heads and magnitudes, the thread count, and what it refuses; each on every path this CPU runs (AVX-512, AVX2, AVX
 * and SSE4.1 on an AVX-512 CPU, so every path is tested wherever these run). Skipped where it does not run (no
 * SSE4.1).
 */
class Fp32AttentionTest {
    private static final double SCALE = 0.125;

    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(Fp32Attention.enabled(), "the fp32 attention kernel does not run here");
    }

    /** The paths this CPU runs, best first. */
    private static int[] paths() {
        return java.util.stream.IntStream.of(Fp32Attention.AVX512, Fp32Attention.AVX2, Fp32Attention.AVX,
                        Fp32Attention.SSE41)
                .filter(Fp32Attention::runs).toArray();
    }

    private static Tensor randn(Generator g, double scale, long... shape) {
        return torch.randn(shape, new GeneratorOptional(g), new TensorOptions(ScalarType.Float))
                .mul_(new Scalar(scale));
    }

    private static Tensor heads(Tensor x, long h) {
        return x.view(1, x.size(1), h, 64).transpose(1, 2);
    }

    /** LibTorch's attention of (1, T, H*64) rows, back as (1, T, H*64), in the inputs' type */
    private static Tensor libtorch(Tensor q, Tensor k, Tensor v, long h) {
        return torch.scaled_dot_product_attention(heads(q, h), heads(k, h), heads(v, h), new TensorOptional(), 0.0,
                false, new DoubleOptional(), false).transpose(1, 2).reshape(1, q.size(1), h * 64);
    }

    private static double err(Tensor got, Tensor ref) {
        return got.to(ScalarType.Double).sub(ref).abs().max().item_double() / ref.abs().max().item_double();
    }

    @Test
    void packedRowsGiveTheBitsOfSeparateTensors() {
        for (int t : new int[] {1, 17, 272, 545}) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(t);
                Tensor qkv = randn(g, 1.0, 1, t, 3 * 512);
                assertThat(Fp32Attention.takesPacked(qkv, 8)).isTrue();
                assertThat(Fp32Attention.takesPacked(qkv.to(ScalarType.BFloat16), 8)).isFalse();
                Tensor packed = Fp32Attention.attendPacked(qkv, 8, SCALE);
                Tensor apart = Fp32Attention.attend(qkv.narrow(2, 0, 512).contiguous(),
                        qkv.narrow(2, 512, 512).contiguous(), qkv.narrow(2, 1024, 512).contiguous(), 8, SCALE);
                assertThat(torch.equal(packed, apart)).as("%d frames", t).isTrue();
            }
        }
    }

    @Test
    void matchesDoublePrecisionAsCloselyAsLibTorch() {
        for (int seed = 1; seed <= 3; seed++) {
            for (int t : new int[] {1, 2, 15, 16, 17, 33, 100, 544, 1006}) {
                for (double magnitude : new double[] {1.0, 4.0}) {
                    try (PointerScope scope = new PointerScope()) {
                        long h = seed == 2 ? 3 : 8;
                        Generator g = torch.createCPUGenerator(seed * 7919L + t * 13L + (long) magnitude);
                        Tensor q = randn(g, magnitude, 1, t, h * 64);
                        Tensor k = randn(g, magnitude, 1, t, h * 64);
                        Tensor v = randn(g, 1.0, 1, t, h * 64);
                        Tensor ref = libtorch(q.to(ScalarType.Double), k.to(ScalarType.Double),
                                v.to(ScalarType.Double), h);
                        double theirs = err(libtorch(q, k, v, h), ref);
                        for (int path : paths()) {
                            Tensor got = Fp32Attention.attendOn(path, q, k, v, h, SCALE);
                            assertThat(got.scalar_type().value).isEqualTo(ScalarType.Float.value);
                            assertThat(got.sizes().vec().get()).containsExactly(1, t, h * 64);
                            double ours = err(got, ref);
                            // LibTorch's own error depends on the kernels the CPU and the caps pick (3.3e-7 to
                            // 5e-7 here under LibTorch's default kernels), so the floor covers this kernel's own
                            // fp32 rounding: 2.4e-6 at magnitude 4 (seed 2, 15 and 16 frames) on the AVX-512 and
                            // AVX paths, AMD EPYC Zen 4
                            assertThat(ours).as("path %d, seed %d, %d frames, magnitude %.0f: LibTorch %.2e", path,
                                    seed, t, magnitude, theirs).isLessThanOrEqualTo(Math.max(4 * theirs, 4e-6));
                        }
                    }
                }
            }
        }
    }

    @Test
    void theLongestFlowRunStaysAsClose() {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(2500);
            Tensor q = randn(g, 1.0, 1, 2500, 512);
            Tensor k = randn(g, 1.0, 1, 2500, 512);
            Tensor v = randn(g, 1.0, 1, 2500, 512);
            Tensor ref = libtorch(q.to(ScalarType.Double), k.to(ScalarType.Double), v.to(ScalarType.Double), 8);
            double theirs = err(libtorch(q, k, v, 8), ref);
            for (int path : paths()) {
                assertThat(err(Fp32Attention.attendOn(path, q, k, v, 8, SCALE), ref)).as("path %d", path)
                        .isLessThanOrEqualTo(Math.max(4 * theirs, 2e-6));
            }
        }
    }

    @Test
    void aNonFiniteInputComesOutNonFinite() {
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(37);
            Tensor q = randn(g, 1.0, 1, 40, 512);
            Tensor k = randn(g, 1.0, 1, 40, 512);
            Tensor v = randn(g, 1.0, 1, 40, 512);
            v.select(1, 3).fill_(new Scalar(Float.NaN));
            for (int path : paths()) {
                assertThat(Fp32Attention.attendOn(path, q, k, v, 8, SCALE).isnan().all().item_bool()).as("path %d",
                        path).isTrue();
            }
            Tensor nanKey = k.clone();
            nanKey.select(1, 5).fill_(new Scalar(Float.NaN));
            for (int path : paths()) {
                assertThat(Fp32Attention.attendOn(path, q, nanKey, v.nan_to_num(), 8, SCALE).isnan().all()
                        .item_bool()).as("a NaN key, path %d", path).isTrue();
            }
        }
    }

    @Test
    void resultDoesNotDependOnTheThreadCount() {
        int before = torch.get_num_threads();
        try (PointerScope scope = new PointerScope()) {
            Generator g = torch.createCPUGenerator(3);
            Tensor q = randn(g, 2.0, 1, 300, 512);
            Tensor k = randn(g, 2.0, 1, 300, 512);
            Tensor v = randn(g, 1.0, 1, 300, 512);
            for (int path : paths()) {
                torch.set_num_threads(1);
                Tensor one = Fp32Attention.attendOn(path, q, k, v, 8, SCALE);
                // explicit counts, not this machine's default (one thread on a 2-vCPU box would compare one with one):
                // fewer threads than heads, more than heads, more than (head, block) pairs
                for (int n : new int[] {2, 3, 8, 16, 64}) {
                    torch.set_num_threads(n);
                    Tensor many = Fp32Attention.attendOn(path, q, k, v, 8, SCALE);
                    assertThat(torch.equal(many, one)).as("path %d, %d threads", path, n).isTrue();
                }
            }
        } finally {
            torch.set_num_threads(before);
        }
    }

    @Test
    void takesOnlyContiguousFp32RowsOfHeadsOf64() {
        try (PointerScope scope = new PointerScope()) {
            Tensor ok = torch.zeros(1, 10, 512);
            assertThat(Fp32Attention.takes(ok, ok, ok, 8)).isTrue();
            assertThat(Fp32Attention.takes(ok, ok, ok, 16)).isFalse();
            Tensor b = ok.to(ScalarType.BFloat16);
            assertThat(Fp32Attention.takes(b, b, b, 8)).isFalse();
            Tensor strided = torch.zeros(1, 512, 10).transpose(1, 2);
            assertThat(Fp32Attention.takes(strided, strided, strided, 8)).isFalse();
            assertThatThrownBy(() -> Fp32Attention.attend(b, b, b, 8, SCALE))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("fp32");
            assertThatThrownBy(() -> Fp32Attention.attend(ok, ok, ok, 8, -1))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("scale");
        }
    }

    @Test
    void theTwoPathsDifferOnlyByTheSoftmaxsRounding() {
        assumeTrue(Fp32Attention.runs(Fp32Attention.AVX512), "only one path runs here");
        assertPathsAgree(Fp32Attention.AVX512, Fp32Attention.AVX2, 4000, 1e-6);
    }

    /** The AVX path rounds each product before its add: not the AVX2 path's bits, but as close to them. */
    @Test
    void theAvxPathDiffersFromTheAvx2PathOnlyByRounding() {
        assumeTrue(Fp32Attention.runs(Fp32Attention.AVX2), "the AVX2 path does not run here");
        assertPathsAgree(Fp32Attention.AVX2, Fp32Attention.AVX, 5000, 2e-6);
    }

    /**
     * The SSE4.1 path does the AVX path's arithmetic on four lanes: every score and output sum the same chain of
     * products and adds, only the softmax's sum in four lanes instead of eight.
     */
    @Test
    void theSse41PathDiffersFromTheAvxPathOnlyByTheSoftmaxsRounding() {
        assumeTrue(Fp32Attention.runs(Fp32Attention.AVX), "the AVX path does not run here");
        assertPathsAgree(Fp32Attention.AVX, Fp32Attention.SSE41, 6000, 1e-6);
    }

    /** {@code other}'s attention within {@code bound} of {@code reference}'s (relative to its largest value). */
    private static void assertPathsAgree(int reference, int other, long seedBase, double bound) {
        for (int t : new int[] {1, 17, 544, 1006}) {
            try (PointerScope scope = new PointerScope()) {
                Generator g = torch.createCPUGenerator(seedBase + t);
                Tensor q = randn(g, 2.0, 1, t, 512);
                Tensor k = randn(g, 2.0, 1, t, 512);
                Tensor v = randn(g, 1.0, 1, t, 512);
                Tensor a = Fp32Attention.attendOn(reference, q, k, v, 8, SCALE);
                Tensor b = Fp32Attention.attendOn(other, q, k, v, 8, SCALE);
                assertThat(err(b, a.to(ScalarType.Double))).as("%d frames", t).isLessThanOrEqualTo(bound);
            }
        }
    }

    /** The C side's detection against the CPU's flags: every path whose instructions the CPU lists runs, no other. */
    @Test
    void everyPathTheCpuListsRuns() {
        java.util.List<String> flags = CpuFlags.get();
        assumeTrue(!flags.isEmpty(), "no /proc/cpuinfo here");
        assertThat(Fp32Attention.runs(Fp32Attention.SSE41)).isEqualTo(flags.contains("sse4_1"));
        assertThat(Fp32Attention.runs(Fp32Attention.AVX)).isEqualTo(flags.contains("avx"));
        assertThat(Fp32Attention.runs(Fp32Attention.AVX2)).isEqualTo(flags.contains("avx2") && flags.contains("fma"));
        assertThat(Fp32Attention.runs(Fp32Attention.AVX512)).isEqualTo(flags.contains("avx512f"));
        if (System.getenv("ATEN_CPU_CAPABILITY") == null && System.getenv("ONEDNN_MAX_CPU_ISA") == null) {
            assertThat(Fp32Attention.path()).isEqualTo(flags.contains("avx512f") ? "avx512"
                    : flags.contains("avx2") && flags.contains("fma") ? "avx2"
                    : flags.contains("avx") ? "avx" : "sse41");
        }
    }

    @Test
    void theDispatchCapPicksThePath() {
        int both = Fp32Attention.AVX512;
        assertThat(Fp32Attention.pathUnder(both, null)).isEqualTo(Fp32Attention.AVX512);
        assertThat(Fp32Attention.pathUnder(both, "avx512")).isEqualTo(Fp32Attention.AVX512);
        assertThat(Fp32Attention.pathUnder(both, " AVX2 ")).isEqualTo(Fp32Attention.AVX2);
        assertThat(Fp32Attention.pathUnder(both, "default")).isEqualTo(Fp32Attention.AVX);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX2, null)).isEqualTo(Fp32Attention.AVX2);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX2, "avx512")).isEqualTo(Fp32Attention.AVX2);
        assertThat(Fp32Attention.pathUnder(Fp32Attention.AVX, "avx2")).isEqualTo(Fp32Attention.AVX);
        assertThat(Fp32Attention.pathUnder(0, null)).isZero();
        assertThat(Fp32Attention.pathUnder(0, "default")).isZero();
        assertThat(Fp32Attention.pathUnder(Fp32Attention.SSE41, "default")).isEqualTo(Fp32Attention.SSE41);
        assertThat(Fp32Attention.path()).isIn("avx512", "avx2", "avx", "sse41");
        // oneDNN held to SSE stands for a CPU without AVX: its SSE4.1 path, or none without SSE4.1
        assertThat(Fp32Attention.pathUnder(both, "default", "SSE41")).isEqualTo(Fp32Attention.SSE41);
        assertThat(Fp32Attention.pathUnder(both, null, " sse41 ")).isEqualTo(Fp32Attention.SSE41);
        assertThat(Fp32Attention.pathUnder(0, "default", "SSE41")).isZero();
        assertThat(Fp32Attention.pathUnder(both, "default", "AVX")).isEqualTo(Fp32Attention.AVX);
        assertThat(Fp32Attention.pathUnder(both, "avx2", "AVX2")).isEqualTo(Fp32Attention.AVX2);
        assertThat(Fp32Attention.pathUnder(both, null, null)).isEqualTo(Fp32Attention.AVX512);
        if ("default".equalsIgnoreCase(System.getenv("ATEN_CPU_CAPABILITY"))
                && "AVX".equalsIgnoreCase(System.getenv("ONEDNN_MAX_CPU_ISA"))) {
            assertThat(Fp32Attention.path()).isEqualTo("avx");
        }
        if ("default".equalsIgnoreCase(System.getenv("ATEN_CPU_CAPABILITY"))
                && "SSE41".equalsIgnoreCase(System.getenv("ONEDNN_MAX_CPU_ISA"))) {
            assertThat(Fp32Attention.path()).isEqualTo("sse41");
        }
        assertThatThrownBy(() -> Fp32Attention.attendOn(7, torch.zeros(1, 4, 512), torch.zeros(1, 4, 512),
                torch.zeros(1, 4, 512), 8, SCALE)).isInstanceOf(IllegalArgumentException.class);
    }
}
