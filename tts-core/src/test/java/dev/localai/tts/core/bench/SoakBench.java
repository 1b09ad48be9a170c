package dev.localai.tts.core.bench;

import dev.localai.tts.core.audio.encode.AudioEncoder;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.NativeMemory;
import dev.localai.tts.core.engine.RandomTurbo;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.AudioFormat;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.Pointer;

/**
 * Memory soak (a program, not a test): many requests through one engine — whole clips encoded in every format,
 * streams encoded on the fly, streams cancelled after their first chunk, repeats served from a small cache that
 * keeps evicting — with RSS, JavaCPP's physical and tracked native bytes and the Java heap reported before, during
 * and after. Flat figures mean nothing leaks per request.
 *
 * <pre>
 * tts-core/bench/run.sh SoakBench [--model tiny:3] [--requests 1000] [--concurrent 4] [--max-tokens 30]
 * </pre>
 */
public final class SoakBench {
    private SoakBench() {}

    public static void main(String[] argv) throws Exception {
        BenchArgs a = new BenchArgs(argv);
        String model = RandomTurbo.resolve(a.get("model", "tiny:3"));
        int requests = a.getInt("requests", 1000);
        int concurrent = a.getInt("concurrent", 4);
        int maxTokens = a.getInt("max-tokens", 30);
        int threads = a.getInt("threads", 0);
        System.out.printf("SoakBench: model %s, %d requests, %d concurrent, max %d tokens, %s%n", model, requests,
                concurrent, maxTokens, BenchArgs.machine());
        try (TtsEngine e = TtsEngine.builder().model(model).threads(threads).maxConcurrent(concurrent)
                .maxQueue(concurrent * 4).cacheBytes(2L << 20).build()) {
            AudioFormat[] formats = AudioFormat.values();
            AtomicLong bytesOut = new AtomicLong();
            // warm-up: JIT, LibTorch's allocator pools, FFmpeg codec tables
            for (int i = 0; i < 4 * formats.length; i++) {
                one(e, i, maxTokens, formats, bytesOut);
            }
            System.out.println();
            System.out.println("| after requests | RSS MiB | JavaCPP physicalBytes MiB | JavaCPP totalBytes KiB "
                    + "| live JavaCPP pointers | Java heap used MiB | cache MiB |");
            System.out.println("|---|---|---|---|---|---|---|");
            Row before = row(0, e);
            ExecutorService clients = Executors.newFixedThreadPool(concurrent);
            long t0 = System.nanoTime();
            int step = Math.max(1, requests / 4);
            try {
                for (int done = 0; done < requests; done += step) {
                    List<Future<?>> fs = new ArrayList<>();
                    int end = Math.min(requests, done + step);
                    for (int i = done; i < end; i++) {
                        int k = 100 + i;
                        fs.add(clients.submit(() -> {
                            one(e, k, maxTokens, formats, bytesOut);
                            return null;
                        }));
                    }
                    for (Future<?> f : fs) {
                        f.get();
                    }
                    row(end, e);
                }
            } finally {
                clients.shutdownNow();
            }
            Row after = row(-1, e);
            System.out.printf("%n%d requests in %.1f s; %.1f MiB of encoded audio; cache %s; change over the soak: "
                    + "RSS %+.1f MiB, physicalBytes %+.1f MiB, totalBytes %+.1f KiB, live pointers %+d, heap %+.1f MiB%n",
                    requests,
                    (System.nanoTime() - t0) / 1e9, bytesOut.get() / 1048576.0, e.cacheStats(),
                    after.rss - before.rss, after.physical - before.physical, after.total - before.total,
                    after.pointers - before.pointers, after.heap - before.heap);
        }
    }

    /** One request of a kind chosen by k: 0-5 whole and encoded, 6-8 streamed and encoded, 9 cancelled. */
    private static void one(TtsEngine e, int k, int maxTokens, AudioFormat[] formats, AtomicLong bytesOut)
            throws Exception {
        AudioFormat f = formats[k % formats.length];
        // every 7th request repeats an earlier one (a cache hit unless evicted)
        int id = k % 7 == 0 ? k / 7 : k;
        SpeechRequest r = SpeechRequest.builder("Soak request " + id + ", checking that memory stays flat.")
                .seed((long) id).maxTokens(maxTokens).format(f).speed(k % 5 == 0 ? 1.25 : 1.0).build();
        int kind = k % 10;
        if (kind < 6) {
            AudioClip clip = e.synthesize(r);
            bytesOut.addAndGet(AudioEncoders.encode(f, clip.samples(), clip.sampleRate()).length);
        } else if (kind < 9) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (SpeechStream s = e.stream(r); AudioEncoder enc = AudioEncoders.streaming(f, out, 24000)) {
                while (s.hasNext()) {
                    enc.write(s.next().samples());
                }
                enc.finish();
            }
            bytesOut.addAndGet(out.size());
        } else {
            try (SpeechStream s = e.stream(r.toBuilder().maxTokens(1000).build())) {
                if (s.hasNext()) {
                    s.next();
                }
            }
        }
    }

    private record Row(double rss, double physical, double total, long pointers, double heap) {}

    private static Row row(int after, TtsEngine e) {
        System.gc();
        Runtime rt = Runtime.getRuntime();
        Row r = new Row(NativeMemory.residentBytes() / 1048576.0, Pointer.physicalBytes() / 1048576.0,
                Pointer.totalBytes() / 1024.0, Pointer.totalCount(), (rt.totalMemory() - rt.freeMemory()) / 1048576.0);
        System.out.printf("| %s | %.1f | %.1f | %.1f | %d | %.1f | %.2f |%n", after < 0 ? "end (after GC)" : after,
                r.rss, r.physical, r.total, r.pointers, r.heap, e.cacheStats().get("bytes") / 1048576.0);
        return r;
    }
}
