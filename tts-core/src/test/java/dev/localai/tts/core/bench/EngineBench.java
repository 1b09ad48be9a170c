package dev.localai.tts.core.bench;

import dev.localai.tts.core.engine.RandomTurbo;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.TtsOptions;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Engine throughput and latency (a program, not a test): aggregate real-time factor at several concurrency levels
 * (each with batched T3 decoding on and, with {@code --compare-unbatched}, off), then time to first audio of
 * streamed requests.
 *
 * <pre>
 * tts-core/bench/run.sh EngineBench [--model tiny:3|random-turbo|DIR|REPO] [--levels 1,4,16] [--rounds 2] [--max-tokens 60]
 *     [--threads 0] [--ttfa 10] [--compare-unbatched] [--dtype auto|fp32|bf16] [--device cpu|cuda|cuda:N]
 * </pre>
 *
 * {@code --dtype} sets the engine's weight type ({@code auto}, the default, lets the engine choose).
 * {@code --device} runs the engine there ({@code cpu} unless set; on a GPU give {@code --dtype bf16} for the weight
 * type {@code tts-cuda} chooses).
 * Every request has its own seed and text, so nothing is served from the cache (it is also disabled).
 */
public final class EngineBench {
    private static final String[] TEXTS = {
        "The quick brown fox jumps over the lazy dog near the river bank.",
        "Streaming speech on the JVM should feel instant to the listener.",
        "Please remember to water the plants while I am away this week.",
        "Batching decode steps lets many requests share one pass over the weights.",
    };

    private EngineBench() {}

    public static void main(String[] argv) throws Exception {
        BenchArgs a = new BenchArgs(argv);
        String model = RandomTurbo.resolve(a.get("model", "tiny:3"));
        int[] levels = a.ints("levels", "1,4,16");
        int rounds = a.getInt("rounds", 2);
        int maxTokens = a.getInt("max-tokens", 60);
        int threads = a.getInt("threads", 0);
        int ttfaRuns = a.getInt("ttfa", 10);
        boolean compare = a.flag("compare-unbatched");
        dtype = a.get("dtype", "auto");
        device = a.get("device", "cpu");
        try (TtsEngine probe = engine(model, threads, 1, false)) {
            System.out.printf("EngineBench: model %s, weights %s (--dtype %s), %d rounds per client, max %d speech "
                    + "tokens per request, on %s, %s%n", model, probe.modelInfo().dtype(), dtype, rounds, maxTokens,
                    probe.modelInfo().device(),
                    BenchArgs.machine());
        }
        System.out.println();
        System.out.println("| concurrent | batched T3 | requests | audio s | wall s | aggregate xRT | aggregate RTF "
                + "| mean batch | p50 latency s | p95 latency s |");
        System.out.println("|---|---|---|---|---|---|---|---|---|---|");
        for (int level : levels) {
            throughput(model, threads, level, rounds, maxTokens, true);
            if (compare && level > 1) {
                throughput(model, threads, level, rounds, maxTokens, false);
            }
        }
        System.out.println();
        if (ttfaRuns > 0) { // --ttfa 0: no streaming runs, and no line of NaNs for them
            ttfa(model, threads, ttfaRuns, maxTokens, 1);
            ttfa(model, threads, ttfaRuns, maxTokens, 4);
        }
    }

    private static String dtype = "auto";
    private static String device = "cpu";

    private static TtsEngine engine(String model, int threads, int concurrent, boolean batched) {
        TtsOptions.Builder b = TtsEngine.builder().model(model).threads(threads).maxConcurrent(concurrent)
                .maxQueue(Math.max(16, concurrent * 4)).cacheBytes(0).batchDecoding(batched)
                .device(device);
        if (!dtype.equals("auto")) {
            b.dtype(dtype);
        }
        return b.build();
    }

    private static SpeechRequest request(int i, int maxTokens) {
        return SpeechRequest.builder(TEXTS[i % TEXTS.length]).seed(1000L + i).maxTokens(maxTokens).build();
    }

    private static void throughput(String model, int threads, int level, int rounds, int maxTokens, boolean batched)
            throws Exception {
        try (TtsEngine e = engine(model, threads, level, batched)) {
            e.synthesize(request(9999, 8)); // warm-up
            ExecutorService clients = Executors.newFixedThreadPool(level);
            try {
                CountDownLatch go = new CountDownLatch(1);
                List<Future<double[]>> fs = new ArrayList<>();
                for (int c = 0; c < level; c++) {
                    int client = c;
                    // per client: audio seconds, then the latency of each request
                    fs.add(clients.submit(() -> {
                        go.await();
                        double[] out = new double[1 + rounds];
                        for (int r = 0; r < rounds; r++) {
                            AudioClip clip = e.synthesize(request(client * rounds + r, maxTokens));
                            out[0] += clip.stats().audioSeconds();
                            out[1 + r] = clip.stats().generationSeconds();
                        }
                        return out;
                    }));
                }
                long t0 = System.nanoTime();
                go.countDown();
                double audio = 0;
                List<Double> latencies = new ArrayList<>();
                for (Future<double[]> f : fs) {
                    double[] r = f.get();
                    audio += r[0];
                    for (int i = 1; i < r.length; i++) {
                        latencies.add(r[i]);
                    }
                }
                double wall = (System.nanoTime() - t0) / 1e9;
                double[] lat = latencies.stream().mapToDouble(Double::doubleValue).toArray();
                Map<String, Long> b = e.batchStats();
                System.out.printf("| %d | %s | %d | %.2f | %.2f | %.2f | %.3f | %.2f | %.2f | %.2f |%n", level,
                        batched && level > 1 ? "on" : "off", level * rounds, audio, wall, audio / wall, wall / audio,
                        b.get("meanBatchX100") / 100.0, BenchArgs.percentile(lat, 50),
                        BenchArgs.percentile(lat, 95));
            } finally {
                clients.shutdownNow();
            }
        }
    }

    /** Time to the first non-empty chunk of streamed requests, {@code level} at a time. */
    private static void ttfa(String model, int threads, int runs, int maxTokens, int level) throws Exception {
        try (TtsEngine e = engine(model, threads, level, true)) {
            e.synthesize(request(7, 8));
            ExecutorService clients = Executors.newFixedThreadPool(level);
            try {
                List<Future<double[]>> fs = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    int k = i;
                    fs.add(clients.submit(() -> {
                        long t0 = System.nanoTime();
                        double first = -1;
                        int chunks = 0;
                        try (SpeechStream s = e.stream(request(500 + k, maxTokens))) {
                            while (s.hasNext()) {
                                AudioChunk c = s.next();
                                if (first < 0 && c.samples().length > 0) {
                                    first = (System.nanoTime() - t0) / 1e6;
                                }
                                chunks++;
                            }
                            return new double[] {first, (System.nanoTime() - t0) / 1e6, chunks,
                                s.stats().audioSeconds()};
                        }
                    }));
                }
                double[] first = new double[runs];
                double[] total = new double[runs];
                double chunks = 0;
                double audio = 0;
                for (int i = 0; i < runs; i++) {
                    double[] r = fs.get(i).get();
                    first[i] = r[0];
                    total[i] = r[1];
                    chunks += r[2];
                    audio += r[3];
                }
                System.out.printf("streaming, %d at a time, %d requests: time to first audio p50 %.0f ms, p95 %.0f ms;"
                        + " whole request p50 %.0f ms; %.1f chunks and %.2f s of audio per request%n", level, runs,
                        BenchArgs.percentile(first, 50), BenchArgs.percentile(first, 95),
                        BenchArgs.percentile(total, 50), chunks / runs, audio / runs);
            } finally {
                clients.shutdownNow();
            }
        }
    }
}
