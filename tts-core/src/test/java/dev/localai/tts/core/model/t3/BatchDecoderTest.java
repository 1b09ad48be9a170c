package dev.localai.tts.core.model.t3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.testing.Golden;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Batched decoding across sessions gives what one-by-one decoding gives. */
class BatchDecoderTest {
    private static T3 t3;
    private static T3Cond cond;

    @BeforeAll
    static void load() {
        t3 = T3.load(Golden.ckpt().resolve("t3_turbo_v1.safetensors"), Device.cpu(), ScalarType.Float);
        torch.manual_seed(7);
        Tensor spk = torch.randn(1, 256).retainReference();
        Tensor prompt = torch.randint(0, 6561, new long[] {1, 20}).retainReference();
        cond = new T3Cond(spk, prompt);
    }

    @AfterAll
    static void close() {
        cond.speakerEmb().close();
        cond.promptSpeechTokens().close();
        t3.close();
    }

    /** Texts of different lengths, so the sessions sit at different positions in every batch. */
    private static int[] text(int i) {
        int[] t = new int[5 + 7 * i];
        for (int j = 0; j < t.length; j++) {
            t[j] = (31 * i + 17 * j) % 1000;
        }
        return t;
    }

    private static SamplingParams params() {
        return SamplingParams.defaults().withMaxGenLen(40);
    }

    @Test
    void batchedRowsGiveTheSameLogitsAsSingleSteps() {
        int n = 3;
        List<T3Session> a = new ArrayList<>();
        List<T3Session> b = new ArrayList<>();
        try (PointerScope scope = new PointerScope(); BatchBuffers bb = t3.newBatchBuffers(4, 2, false)) {
            for (int i = 0; i < n; i++) {
                a.add(t3.start(cond, text(i), params(), TokenSampler.greedy()));
                b.add(t3.start(cond, text(i), params(), TokenSampler.greedy()));
                a.get(i).next();
                b.get(i).next();
            }
            int[] tokens = new int[n];
            int[] pos = new int[n];
            KvCache[] caches = new KvCache[n];
            for (int i = 0; i < n; i++) {
                tokens[i] = a.get(i).tokens()[0];
                pos[i] = a.get(i).cache().length();
                caches[i] = b.get(i).cache();
                a.get(i).stepLocal(tokens[i], pos[i]);
            }
            Tensor rows = t3.stepLogitsRows(n, tokens, pos, caches, bb);
            for (int i = 0; i < n; i++) {
                double d = Golden.maxAbsDiff(rows.select(0, i).to(ScalarType.Float), a.get(i).lastLogits());
                assertThat(d).as("row " + i).isLessThanOrEqualTo(1e-4);
                assertThat(caches[i].length()).isEqualTo(pos[i] + 1);
            }
        } finally {
            a.forEach(T3Session::close);
            b.forEach(T3Session::close);
        }
    }

    @Test
    void pooledCachesGiveTheLogitsOfSingleStepsStepAfterStep() {
        int n = 3;
        List<T3Session> a = new ArrayList<>();
        List<T3Session> b = new ArrayList<>();
        // the GPU's layout (one tensor per layer for all sessions' caches), run here on the CPU
        try (BatchDecoder decoder = BatchDecoder.start(t3, 4, 2.0, true)) {
            try (PointerScope scope = new PointerScope()) {
                for (int i = 0; i < n; i++) {
                    a.add(t3.start(cond, text(i), params(), TokenSampler.greedy()));
                    b.add(t3.start(cond, text(i), params(), TokenSampler.greedy(), decoder));
                    a.get(i).next();
                    b.get(i).next();
                    assertThat(b.get(i).cache().pool()).as("a slot of the pool").isNotNull();
                    assertThat(a.get(i).cache().pool()).isNull();
                }
                assertThat(decoder.pooledCaches()).isEqualTo(n);
                int[] tokens = new int[n];
                int[] pos = new int[n];
                KvCache[] caches = new KvCache[n];
                for (int i = 0; i < n; i++) {
                    tokens[i] = a.get(i).tokens()[0];
                }
                for (int step = 0; step < 6; step++) {
                    for (int i = 0; i < n; i++) {
                        pos[i] = a.get(i).cache().length();
                        caches[i] = b.get(i).cache();
                        a.get(i).stepLocal(tokens[i], pos[i]);
                    }
                    Tensor rows = t3.stepLogitsRows(n, tokens, pos, caches, decoder.buffers());
                    for (int i = 0; i < n; i++) {
                        double d = Golden.maxAbsDiff(rows.select(0, i).to(ScalarType.Float), a.get(i).lastLogits());
                        assertThat(d).as("step " + step + " row " + i).isLessThanOrEqualTo(1e-4);
                        assertThat(caches[i].length()).isEqualTo(pos[i] + 1);
                        tokens[i] = (int) a.get(i).lastLogits().argmax().item_long();
                    }
                }
            } finally {
                a.forEach(T3Session::close);
                b.forEach(T3Session::close);
            }
            assertThat(decoder.pooledCaches()).as("closed sessions hand their slots back").isZero();
        }
    }

    @Test
    void withEverySlotTakenASessionMakesItsOwnCacheAndMixedBatchesGiveTheUnbatchedTokens() throws Exception {
        int n = 3;
        int[][] expected = new int[n][];
        for (int i = 0; i < n; i++) {
            expected[i] = t3.generate(cond, text(i), params(), TokenSampler.seeded(200 + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        // two slots for three sessions: batches mix pooled rows and a row with its own cache
        try (BatchDecoder decoder = BatchDecoder.start(t3, 2, 2.0, true)) {
            CountDownLatch started = new CountDownLatch(n);
            List<Future<int[]>> fs = new ArrayList<>();
            List<Boolean> pooled = java.util.Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < n; i++) {
                int k = i;
                fs.add(pool.submit(() -> {
                    try (T3Session s = t3.start(cond, text(k), params(), TokenSampler.seeded(200 + k), decoder)) {
                        pooled.add(s.cache().pool() != null);
                        started.countDown();
                        started.await();
                        return s.generateAll();
                    }
                }));
            }
            for (int i = 0; i < n; i++) {
                assertThat(fs.get(i).get()).as("session " + i).containsExactly(expected[i]);
            }
            assertThat(pooled).containsExactlyInAnyOrder(true, true, false);
            assertThat(decoder.pooledCaches()).isZero();
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void concurrentSessionsWithPooledCachesGiveTheUnbatchedTokens() throws Exception {
        concurrentSessionsGiveTheUnbatchedTokens(true, 300);
    }

    @Test
    void concurrentSessionsThroughTheDecoderGiveTheUnbatchedTokens() throws Exception {
        concurrentSessionsGiveTheUnbatchedTokens(false, 100);
    }

    /** Four sessions at once through one decoder, its caches pooled or each session's own: the tokens of each alone. */
    private static void concurrentSessionsGiveTheUnbatchedTokens(boolean pooledCaches, int seed) throws Exception {
        int n = 4;
        int[][] expected = new int[n][];
        for (int i = 0; i < n; i++) {
            expected[i] = t3.generate(cond, text(i), params(), TokenSampler.seeded(seed + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try (BatchDecoder decoder = BatchDecoder.start(t3, n, 2.0, pooledCaches)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<int[]>> fs = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                int k = i;
                fs.add(pool.submit(() -> {
                    go.await();
                    try (T3Session s = t3.start(cond, text(k), params(), TokenSampler.seeded(seed + k), decoder)) {
                        assertThat(s.cache().pool() != null).as("a slot of the pool").isEqualTo(pooledCaches);
                        return s.generateAll();
                    }
                }));
            }
            go.countDown();
            for (int i = 0; i < n; i++) {
                assertThat(fs.get(i).get()).as("session " + i).containsExactly(expected[i]);
            }
            System.out.printf("batch decoder (pooled caches %s): %d batches, %d steps, mean batch %.2f%n",
                    pooledCaches, decoder.batches(), decoder.steps(), decoder.meanBatch());
            assertThat(decoder.meanBatch()).isGreaterThan(1.0);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aSingleSessionThroughTheDecoderIsBitForBitTheUnbatchedOne() {
        int[] expected = t3.generate(cond, text(2), params(), TokenSampler.seeded(5));
        try (BatchDecoder decoder = BatchDecoder.start(t3, 4);
             T3Session s = t3.start(cond, text(2), params(), TokenSampler.seeded(5), decoder)) {
            int[] got = s.generateAll();
            assertThat(got).containsExactly(expected);
            // alone, it steps on its own thread: no batch, every step local
            assertThat(decoder.batches()).isZero();
            assertThat(decoder.localSteps()).isEqualTo(s.tokens().length - 1); // the first token comes from the prefill
        }
    }

    @Test
    void splitGemmGivesTheWholeProduct() {
        try (PointerScope scope = new PointerScope(); SplitGemm gemm = new SplitGemm(3)) {
            torch.manual_seed(3);
            Tensor w = torch.randn(2049, 1024);
            Tensor x = torch.randn(5, 1024);
            Tensor out = torch.empty(2049, 5);
            gemm.mm(w, x.t(), out);
            assertThat(Golden.maxAbsDiff(out, torch.mm(w, x.t()))).isLessThanOrEqualTo(1e-4);
        }
    }

    @Test
    void aClosedDecoderRefusesNewSessionsAndBadSettingsAreRejected() {
        BatchDecoder decoder = BatchDecoder.start(t3, 2);
        decoder.close();
        assertThatThrownBy(() -> t3.start(cond, text(0), params(), TokenSampler.greedy(), decoder))
                .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> BatchDecoder.start(t3, 0)).isInstanceOf(IllegalArgumentException.class);
    }
}
