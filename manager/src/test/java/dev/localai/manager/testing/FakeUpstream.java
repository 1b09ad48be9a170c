package dev.localai.manager.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A model container's server on loopback: {@code /health} follows a "container running" flag; speech answers
 * deterministic binary audio; chat answers SSE whose chunks after the first are released by the test; other
 * routes echo what they received.
 */
public final class FakeUpstream implements AutoCloseable {
    /** Seeded binary audio answered by {@code /v1/audio/speech} (1 MiB + a ragged tail). */
    public static final byte[] AUDIO = audio();

    /** What one request looked like. */
    public record Seen(String method, String path, Map<String, List<String>> headers, byte[] body) {}

    private final HttpServer server;
    private final BooleanSupplier up;
    public final List<Seen> seen = new CopyOnWriteArrayList<>();
    /** One permit per SSE chunk after the first. */
    public final Semaphore chunks = new Semaphore(0);
    /** Number of SSE chunks after the first one (then {@code [DONE]}). */
    public volatile int moreChunks = 3;
    /** Counted down when a write to the (manager) client failed: the upstream request was cancelled. */
    public volatile CountDownLatch disconnected = new CountDownLatch(1);
    /** Counted down when an SSE stream has sent its first chunk. */
    public volatile CountDownLatch streaming = new CountDownLatch(1);
    private final Map<String, Integer> counts = new ConcurrentHashMap<>();
    /** Requests with an {@code X-Test-Hang} header wait for this latch before the server gives up on them. */
    public final CountDownLatch hang = new CountDownLatch(1);

    public FakeUpstream(BooleanSupplier up) throws IOException {
        this.up = up;
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    public int count(String path) {
        return counts.getOrDefault(path, 0);
    }

    private static byte[] audio() {
        byte[] b = new byte[(1 << 20) + 4321];
        new Random(42).nextBytes(b);
        return b;
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        byte[] body = ex.getRequestBody().readAllBytes();
        if (!path.equals("/health")) {
            seen.add(new Seen(ex.getRequestMethod(), ex.getRequestURI().toString(), Map.copyOf(ex.getRequestHeaders()), body));
            counts.merge(path, 1, Integer::sum);
        }
        try (ex) {
            if (ex.getRequestHeaders().containsKey("X-test-hang")) { // a server that accepts and never answers
                try {
                    hang.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return;
            }
            switch (path) {
                case "/health" -> send(ex, up.getAsBoolean() ? 200 : 503, "application/json", "{\"status\":\"ok\"}");
                case "/v1/audio/speech" -> {
                    ex.getResponseHeaders().add("Content-Type", "audio/wav");
                    ex.getResponseHeaders().add("X-Audio-Duration", "12.5");
                    ex.sendResponseHeaders(200, 0);
                    OutputStream out = ex.getResponseBody();
                    for (int off = 0; off < AUDIO.length; off += 65536) {
                        out.write(AUDIO, off, Math.min(65536, AUDIO.length - off));
                        out.flush();
                    }
                }
                case "/v1/chat/completions" -> sse(ex);
                default -> send(ex, 200, "application/json",
                        "{\"path\":\"" + path + "\",\"bytes\":" + body.length + "}");
            }
        }
    }

    private void sse(HttpExchange ex) throws IOException {
        ex.getResponseHeaders().add("Content-Type", "text/event-stream");
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        try {
            out.write(chunk(0));
            out.flush();
            streaming.countDown();
            for (int i = 1; i <= moreChunks; i++) {
                if (!chunks.tryAcquire(30, TimeUnit.SECONDS)) return;
                out.write(chunk(i));
                out.flush();
            }
            out.write("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
            out.flush();
        } catch (IOException e) {
            disconnected.countDown();
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The i-th SSE event. */
    public static byte[] chunk(int i) {
        return ("data: {\"choices\":[{\"delta\":{\"content\":\"token-" + i + "\"}}]}\n\n").getBytes(StandardCharsets.UTF_8);
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        hang.countDown();
        server.stop(0);
    }
}
