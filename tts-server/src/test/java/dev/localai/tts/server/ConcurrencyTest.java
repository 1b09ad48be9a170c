package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Concurrency on a server with one synthesis slot and no queue: a second request while one runs is 429 with
 * Retry-After; a client that disconnects cancels its generation and frees the slot; parallel requests on the shared
 * server are isolated (each gets exactly the audio it gets alone).
 */
class ConcurrencyTest {
    static TtsServer single;
    static Http http;

    /** Long enough that it cannot finish into the socket buffers: many chunks, slowed down four times. */
    static final String LONG = "{\"model\":\"tts-1\",\"voice\":\"alloy\",\"response_format\":\"pcm\",\"speed\":0.25,"
            + "\"input\":\"" + "This sentence is one of many in a long text. ".repeat(60).trim() + "\"}";

    @BeforeAll
    static void start() {
        single = TestServers.startReady(TestServers.config().maxConcurrent(1).maxQueue(0).maxTokens(null)
                .stallTimeout(Duration.ofSeconds(3)).build());
        http = new Http(single);
    }

    @AfterAll
    static void stop() {
        single.shutdown();
    }

    private static HttpResponse<InputStream> open(Http h, String json) throws Exception {
        return Http.CLIENT.send(h.request("/v1/audio/speech").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** Polls until the engine has no running synthesis (the cancellation reached the worker). */
    private static void awaitIdleEngine() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (single.engines().status().engine().activeRequests() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(single.engines().status().engine().activeRequests()).isZero();
    }

    @Test
    void busyIs429WithRetryAfterAndADisconnectFreesTheSlot() throws Exception {
        HttpResponse<InputStream> running = open(http, LONG);
        assertThat(running.statusCode()).isEqualTo(200);
        InputStream body = running.body();
        assertThat(body.readNBytes(4800)).hasSize(4800); // audio is flowing; then this client stops reading

        HttpResponse<byte[]> busy = http.speech("{\"model\":\"tts-1\",\"input\":\"Me too.\",\"voice\":\"alloy\"}");
        JsonNode e = Http.error(busy, 429);
        assertThat(e.get("type").asText()).isEqualTo("rate_limit_error");
        assertThat(busy.headers().firstValue("retry-after")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v))
                .isPositive());

        body.close(); // the client goes away mid-stream
        awaitIdleEngine();
        HttpResponse<byte[]> after = http.speech("{\"model\":\"tts-1\",\"input\":\"Now me.\",\"voice\":\"alloy\","
                + "\"response_format\":\"wav\",\"max_tokens\":10}");
        assertThat(after.statusCode()).as(new String(after.body())).isEqualTo(200);
        String metrics = new String(http.get("/metrics").body(), StandardCharsets.UTF_8);
        assertThat(metrics).containsPattern("tts_client_disconnects_total [1-9]");
    }

    private static long disconnects() {
        String metrics = new String(http.get("/metrics").body(), StandardCharsets.UTF_8);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("tts_client_disconnects_total (\\d+)")
                .matcher(metrics);
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    @Test
    void anSseClientThatDisconnectsCancelsToo() throws Exception {
        long before = disconnects();
        HttpResponse<InputStream> running = open(http, LONG.replace("\"speed\"", "\"stream_format\":\"sse\",\"speed\""));
        assertThat(running.statusCode()).isEqualTo(200);
        InputStream body = running.body();
        assertThat(new String(body.readNBytes(20), StandardCharsets.UTF_8)).startsWith("data: {");
        body.close();
        awaitIdleEngine();
        assertThat(disconnects()).isGreaterThan(before);
        assertThat(http.speech("{\"model\":\"tts-1\",\"input\":\"Free again.\",\"voice\":\"alloy\","
                + "\"response_format\":\"pcm\",\"max_tokens\":10}").statusCode()).isEqualTo(200);
    }

    @Test
    void aClientThatStopsReadingWithoutLeavingLosesItsSlot() throws Exception {
        HttpResponse<InputStream> stalled = open(http, LONG);
        assertThat(stalled.statusCode()).isEqualTo(200);
        InputStream body = stalled.body();
        assertThat(body.readNBytes(4800)).hasSize(4800);
        // the client keeps the connection open but reads nothing more: the stall guard cancels the generation
        awaitIdleEngine();
        HttpResponse<byte[]> next = http.speech("{\"model\":\"tts-1\",\"input\":\"My turn.\",\"voice\":\"alloy\","
                + "\"response_format\":\"pcm\",\"max_tokens\":10}");
        assertThat(next.statusCode()).as(new String(next.body())).isEqualTo(200);
        body.close();
    }

    @Test
    void parallelRequestsAreIsolated() throws Exception {
        Http shared = new Http(TestServers.shared());
        List<String> bodies = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            bodies.add("{\"model\":\"tts-1\",\"input\":\"Parallel request number " + i + ".\",\"voice\":\"alloy\","
                    + "\"seed\":" + (100 + i) + ",\"response_format\":\"pcm\"}");
        }
        List<byte[]> alone = new ArrayList<>();
        for (String b : bodies) {
            alone.add(shared.speech(b).body());
        }
        ExecutorService pool = Executors.newFixedThreadPool(6);
        try {
            List<Future<HttpResponse<byte[]>>> fs = new ArrayList<>();
            for (int round = 0; round < 2; round++) {
                for (String b : bodies) {
                    fs.add(pool.submit(() -> shared.speech(b)));
                }
            }
            for (int i = 0; i < fs.size(); i++) {
                HttpResponse<byte[]> r = fs.get(i).get();
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.body()).as("request %d", i).isEqualTo(alone.get(i % bodies.size()));
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
