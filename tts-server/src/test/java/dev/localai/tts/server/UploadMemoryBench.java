package dev.localai.tts.server;

import dev.localai.tts.core.engine.api.AudioFormat;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A benchmark program (not a test): six concurrent uploads of a 10-minute reference clip against a server with the
 * default upload pool (2 places), then against one with six places, printing the statuses, times and the process's
 * resident memory (baseline, peak, after). Run from tts-server after {@code package}:
 * <pre>
 * java -cp "target/test-classes:target/classes:target/lib/*:$(cat target/test-cp.txt)" \
 *     dev.localai.tts.server.UploadMemoryBench
 * </pre>
 * (test-cp.txt: {@code ./mvnw -o -q -pl tts-server dependency:build-classpath -Dmdep.outputFile=target/test-cp.txt};
 * or assertj-core, byte-buddy and tts-core's tests jar by hand). An optional argument sets the clip's seconds.
 */
public final class UploadMemoryBench {
    private UploadMemoryBench() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        byte[] clip = Clips.voiceLike(seconds, 7, AudioFormat.OPUS);
        System.out.printf("CPU: %s, %d cores; clip: %d s Ogg Opus, %.1f MiB%n", cpu(),
                Runtime.getRuntime().availableProcessors(), seconds, clip.length / 1048576.0);
        for (int places : new int[] {2, 6}) {
            run(places, clip);
        }
        System.exit(0);
    }

    private static void run(int places, byte[] clip) throws Exception {
        TtsServer server = TestServers.startReady(TestServers.config().maxUploads(places).build());
        Http http = new Http(server);
        System.gc();
        long base = rss();
        AtomicLong peak = new AtomicLong(base);
        AtomicBoolean done = new AtomicBoolean();
        Thread sampler = Thread.ofPlatform().daemon().start(() -> {
            while (!done.get()) {
                peak.accumulateAndGet(rss(), Math::max);
                try {
                    Thread.sleep(50);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        long t0 = System.nanoTime();
        List<Future<String>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(6)) {
            for (int i = 0; i < 6; i++) {
                int n = i;
                results.add(pool.submit(() -> {
                    long t = System.nanoTime();
                    HttpResponse<byte[]> r = upload(http, "long" + n, clip);
                    return r.statusCode() + " in " + (System.nanoTime() - t) / 1_000_000 + " ms";
                }));
            }
        }
        List<String> statuses = new ArrayList<>();
        for (Future<String> f : results) {
            statuses.add(f.get());
        }
        done.set(true);
        sampler.join();
        System.gc();
        System.out.printf("max-uploads=%d: %s; wall %.1f s; RSS baseline %d MiB, peak %d MiB (+%d), after %d MiB%n",
                places, statuses, (System.nanoTime() - t0) / 1e9, base >> 20, peak.get() >> 20,
                (peak.get() - base) >> 20, rss() >> 20);
        server.shutdown();
    }

    private static HttpResponse<byte[]> upload(Http http, String name, byte[] clip) {
        String boundary = "----bench" + System.nanoTime();
        byte[] body = Clips.multipart(boundary, new Object[] {"name", null, name},
                new Object[] {"audio_sample", "long.ogg", clip});
        return http.send(http.request("/v1/audio/voices").timeout(java.time.Duration.ofMinutes(30))
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    private static long rss() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException ignored) {
            // not Linux
        }
        return -1;
    }

    private static String cpu() throws IOException {
        return Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
                .findFirst().map(l -> l.substring(l.indexOf(':') + 1).trim()).orElse("unknown");
    }
}
