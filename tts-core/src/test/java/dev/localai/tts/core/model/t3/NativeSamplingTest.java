package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.nn.LogitsKernel;
import dev.localai.tts.core.runtime.Torch;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.bytedeco.javacpp.LongPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * T3's sampling on this project's kernel ({@link LogitsKernel}) against the LibTorch operations it replaces
 * ({@link LogitsProcessor#process}, {@link TokenSampler#inverseCdf}'s tensor form), over Turbo's row size and settings
 * around its defaults, rows with many equal values (ties at the top-k threshold and at the top-p cut), -inf entries,
 * repeated history ids and draws at the ends of [0, 1). Every output must be LibTorch's bits, except a top-p decision
 * whose cumulative probability lies within float rounding of the cut, which the kernel decides in double precision:
 * such an element is allowed to differ only when a double-precision reference puts it that close.
 */
class NativeSamplingTest {
    private static final int V = 6563;

    @BeforeAll
    static void load() {
        Torch.load();
        assumeTrue(LogitsKernel.enabled(), "the native kernels are not loaded here");
    }

    @AfterEach
    void restore() {
        LogitsKernel.use(true);
    }

    private static Tensor floats(float[] v) {
        return torch.from_blob(new org.bytedeco.javacpp.FloatPointer(v), new long[] {v.length},
                new TensorOptions(ScalarType.Float)).clone();
    }

    private static Tensor longs(long[] v) {
        if (v.length == 0) {
            return torch.empty(new long[] {0}, new TensorOptions(ScalarType.Long), null);
        }
        return torch.from_blob(new LongPointer(v), new long[] {v.length}, new TensorOptions(ScalarType.Long)).clone();
    }

    private static float[] array(Tensor t) {
        Tensor c = t.contiguous();
        float[] a = new float[(int) c.numel()];
        c.data_ptr_float().get(a);
        return a;
    }

    /** Logits as T3's head gives them (spread about 3), or with only a few distinct values (many ties). */
    private static float[] logits(SplittableRandom r, int n, boolean ties) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            double g = gaussian(r) * 3.0;
            v[i] = ties ? (float) (Math.rint(g * 2) / 2) : (float) g;
        }
        return v;
    }

    private static double gaussian(SplittableRandom r) {
        double u = r.nextDouble(1e-300, 1.0);
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * The elements that one form removes and the other keeps although their top-p decision is not on the edge: for an
     * element with value v (after temperature and top-k), the cumulative probability (double precision) of all values
     * below v plus one v must be at most the cut and that of all values up to v inclusive above it (within 1e-6), i.e.
     * the cut falls within rounding of v's share, or among v's duplicates (whose order LibTorch leaves unspecified).
     */
    private static List<Integer> unexplained(float[] in, SamplingParams p, float[] ref, float[] got) {
        float[] s = in.clone();
        if (p.temperature() > 0 && p.temperature() != 1.0) {
            for (int i = 0; i < s.length; i++) {
                s[i] = s[i] / (float) p.temperature();
            }
        }
        if (p.topK() > 0 && p.topK() < s.length) {
            float[] sorted = s.clone();
            Arrays.sort(sorted);
            float kth = sorted[s.length - p.topK()];
            for (int i = 0; i < s.length; i++) {
                if (s[i] < kth) {
                    s[i] = Float.NEGATIVE_INFINITY;
                }
            }
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float v : s) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : s) {
            sum += v == Float.NEGATIVE_INFINITY ? 0 : Math.exp(v - max);
        }
        double cut = (float) (1.0 - p.topP());
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < s.length; i++) {
            if ((ref[i] == Float.NEGATIVE_INFINITY) == (got[i] == Float.NEGATIVE_INFINITY)) {
                continue;
            }
            double below = 0;
            int same = 0;
            for (float v : s) {
                if (v != Float.NEGATIVE_INFINITY && v < s[i]) {
                    below += Math.exp(v - max);
                } else if (v == s[i]) {
                    same++;
                }
            }
            double share = Math.exp(s[i] - max);
            boolean edge = p.topP() < 1.0 && (below + share) / sum <= cut + 1e-6
                    && (below + same * share) / sum > cut - 1e-6;
            if (!edge) {
                out.add(i);
            }
        }
        return out;
    }

    private static void assertSameWarp(float[] in, SamplingParams p, long[] history) {
        try (PointerScope scope = new PointerScope()) {
            LogitsProcessor proc = new LogitsProcessor(p);
            Tensor logits = floats(in);
            Tensor hist = longs(history);
            float[] ref = array(proc.process(logits, hist));
            Tensor out = torch.empty(new long[] {in.length}, new TensorOptions(ScalarType.Float), null);
            boolean any = proc.processInto(logits, hist, out);
            float[] got = array(out);
            assertThat(array(logits)).as("input untouched").isEqualTo(in);
            for (int i = 0; i < in.length; i++) {
                boolean decisionDiffers = (ref[i] == Float.NEGATIVE_INFINITY) != (got[i] == Float.NEGATIVE_INFINITY);
                if (!decisionDiffers) {
                    assertThat(Float.floatToIntBits(got[i])).as("element %d of %s", i, p)
                            .isEqualTo(Float.floatToIntBits(ref[i]));
                } else if (got[i] != Float.NEGATIVE_INFINITY) {
                    // kept here, removed by LibTorch: then it has the penalised value LibTorch's kept ones get
                    float v = in[i] / (p.temperature() > 0 && p.temperature() != 1.0 ? (float) p.temperature() : 1f);
                    assertThat(got[i]).isIn(v, v * (float) p.repetitionPenalty(), v / (float) p.repetitionPenalty());
                }
            }
            assertThat(unexplained(in, p, ref, got)).as("top-p decisions that differ off the edge (%s)", p).isEmpty();
            long finite = Arrays.stream(box(got)).filter(v -> v != Float.NEGATIVE_INFINITY).count();
            assertThat(any).isEqualTo(finite > 0);
        }
    }

    private static Float[] box(float[] a) {
        Float[] b = new Float[a.length];
        for (int i = 0; i < a.length; i++) {
            b[i] = a[i];
        }
        return b;
    }

    private static long[] history(SplittableRandom r, int n, int v) {
        long[] h = new long[n];
        for (int i = 0; i < n; i++) {
            // repeats: speech tokens recur, and every occurrence must penalise once
            h[i] = i > 0 && r.nextInt(4) == 0 ? h[r.nextInt(i)] : r.nextInt(v);
        }
        return h;
    }

    @Test
    void warpGivesLibTorchsBitsAroundTurbosDefaults() {
        SamplingParams[] settings = {
            SamplingParams.defaults(),
            new SamplingParams(0.8, 1000, 0.95, 1.2, 10),
            new SamplingParams(1.0, 0, 1.0, 1.0, 10), // nothing active: a copy
            new SamplingParams(0.5, 50, 0.5, 1.5, 10),
            new SamplingParams(1.3, 0, 0.9, 1.2, 10), // top-p over the whole row
            new SamplingParams(0.8, 1, 0.95, 1.2, 10),
            new SamplingParams(0.8, V, 0.95, 0.8, 10), // k = n: no top-k; a penalty below 1
            new SamplingParams(0.8, V + 5, 0.01, 1.2, 10),
            new SamplingParams(0.0, 1000, 1.0, 1.2, 10), // temperature 0 disables the warper (not greedy)
        };
        SplittableRandom r = new SplittableRandom(20261203L);
        for (SamplingParams p : settings) {
            for (int row = 0; row < 12; row++) {
                boolean ties = row % 3 == 2;
                float[] in = logits(r, V, ties);
                long[] h = history(r, row % 4 == 0 ? 0 : 1 + r.nextInt(300), V);
                assertSameWarp(in, p, h);
            }
        }
    }

    @Test
    void warpHandlesMinusInfinityRowsAndSmallRows() {
        SplittableRandom r = new SplittableRandom(7);
        SamplingParams p = SamplingParams.defaults();
        float[] some = logits(r, V, false);
        for (int i = 0; i < V; i += 3) {
            some[i] = Float.NEGATIVE_INFINITY;
        }
        assertSameWarp(some, p, history(r, 40, V));
        float[] one = new float[V];
        Arrays.fill(one, Float.NEGATIVE_INFINITY);
        one[17] = 2.5f;
        assertSameWarp(one, p, new long[] {17, 17, 3});
        for (int n : new int[] {1, 2, 3, 16, 1001}) {
            assertSameWarp(logits(r, n, false), new SamplingParams(0.8, 1000, 0.95, 1.2, 10), history(r, 5, n));
            assertSameWarp(logits(r, n, true), new SamplingParams(0.7, 2, 0.5, 1.2, 10), history(r, 5, n));
        }
        try (PointerScope scope = new PointerScope()) {
            float[] none = new float[V];
            Arrays.fill(none, Float.NEGATIVE_INFINITY);
            Tensor out = torch.empty(new long[] {V}, new TensorOptions(ScalarType.Float), null);
            assertThat(new LogitsProcessor(p).processInto(floats(none), longs(new long[] {1}), out)).isFalse();
            assertThat(array(out)).containsOnly(Float.NEGATIVE_INFINITY);
        }
    }

    @Test
    void nonFiniteLogitsFallBackToLibTorchsOperations() {
        SplittableRandom r = new SplittableRandom(11);
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY}) {
            float[] in = logits(r, V, false);
            in[123] = bad;
            try (PointerScope scope = new PointerScope()) {
                Tensor logits = floats(in);
                Tensor out = torch.empty(new long[] {V}, new TensorOptions(ScalarType.Float), null);
                assertThat(LogitsKernel.warp(logits, 0.8, 1000, 0.95, 1.2, longs(new long[] {1}), out))
                        .isEqualTo(LogitsKernel.NOT_FINITE);
                LogitsProcessor proc = new LogitsProcessor(SamplingParams.defaults());
                proc.processInto(logits, longs(new long[] {1}), out);
                assertThat(array(out)).usingElementComparator((x, y) -> Float.compare(x, y))
                        .containsExactly(box(array(proc.process(logits, longs(new long[] {1})))));
            }
        }
    }

    @Test
    void badHistoryIdsAreRefused() {
        try (PointerScope scope = new PointerScope()) {
            Tensor logits = floats(new float[] {1, 2, 3});
            Tensor out = torch.empty(new long[] {3}, new TensorOptions(ScalarType.Float), null);
            for (long bad : new long[] {-1, 3, Long.MAX_VALUE}) {
                assertThatThrownBy(() -> LogitsKernel.warp(logits, 0.8, 2, 0.9, 1.2, longs(new long[] {0, bad}), out))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("history id");
            }
            assertThatThrownBy(() -> LogitsKernel.warp(logits, 0.8, 2, 0.9, 1.2, longs(new long[] {0}),
                    torch.empty(new long[] {4}, new TensorOptions(ScalarType.Float), null)))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void drawGivesTheTensorFormsTokenForEveryUniform() {
        SplittableRandom r = new SplittableRandom(3);
        float[] us = {0f, 0x1p-24f, 0.25f, 0.5f, 0.999f, 1f - 0x1p-24f};
        for (int row = 0; row < 40; row++) {
            float[] in = logits(r, V, row % 2 == 1);
            if (row % 4 == 3) {
                for (int i = V - 200; i < V; i++) {
                    in[i] = Float.NEGATIVE_INFINITY; // zero probabilities at the end: the rule's last case
                }
            }
            try (PointerScope scope = new PointerScope()) {
                Tensor probs = torch.softmax(floats(in), -1);
                for (int k = 0; k < us.length + 5; k++) {
                    float u = k < us.length ? us[k] : (float) r.nextDouble();
                    LogitsKernel.use(false);
                    int ref = TokenSampler.inverseCdf(() -> u).sample(probs);
                    LogitsKernel.use(true);
                    int got = TokenSampler.inverseCdf(() -> u).sample(probs);
                    assertThat(got).as("row %d u %s", row, u).isEqualTo(ref);
                }
            }
        }
        try (PointerScope scope = new PointerScope()) {
            assertThatThrownBy(() -> LogitsKernel.draw(floats(new float[] {0, 0, 0}), 0.5f))
                    .isInstanceOf(IllegalStateException.class);
        }
    }
}
