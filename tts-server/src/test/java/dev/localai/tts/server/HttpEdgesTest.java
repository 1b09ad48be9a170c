package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.api.Json;
import dev.localai.tts.core.audio.AudioFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The HTTP edges of issue 15, each probe sent as raw bytes on loopback: malformed chunking, aborted bodies, idle
 * connections, {@code Connection: close}, bounded uploads, leak-free upload errors and the id a voice is answered
 * with.
 */
class HttpEdgesTest {
    /** A Java class name in a body ({@code java.io.IOException}, {@code org.bytedeco.Foo$Exception}). */
    private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.){2,}[A-Z]\\w*");

    static TtsServer server;
    static Http http;
    static final LogCapture CAPTURE = new LogCapture();
    static final Logger FILTER_LOG = Logger.getLogger("dev.localai.tts.server.http.ApiFilter");

    @BeforeAll
    static void start() {
        server = TestServers.startReady(TestServers.config().idleTimeout(Duration.ofMillis(500)).maxUploads(1)
                .build());
        http = new Http(server, true); // the idle timeout here is shorter than the JDK client's keep-alive
        CAPTURE.start();
        FILTER_LOG.setLevel(Level.FINE);
    }

    @AfterAll
    static void stop() {
        CAPTURE.stop();
        FILTER_LOG.setLevel(null);
        server.shutdown();
    }

    private static String head(String method, String path, String... headers) {
        StringBuilder sb = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + server.port()
                + "\r\n");
        for (String h : headers) {
            sb.append(h).append("\r\n");
        }
        return sb.append("\r\n").toString();
    }

    private static JsonNode error(RawHttp.Answer a) throws IOException {
        assertThat(a.header("content-type")).startsWith("application/json");
        assertThat(a.header("x-request-id")).isNotBlank();
        assertThat(a.body()).doesNotContainPattern(CLASS_NAME);
        return Json.MAPPER.readTree(a.body()).get("error");
    }

    private static String metrics() {
        return new String(http.get("/metrics").body(), StandardCharsets.UTF_8);
    }

    @Test
    void malformedChunkSizesGet400AndAClose() throws IOException {
        for (String size : new String[] {"zz", "1000000000000000000", "-1", "7fffffffffffffffff"}) {
            for (String[] route : new String[][] {{"/v1/audio/speech", "Content-Type: application/json"},
                    {"/v1/audio/voices", "Content-Type: multipart/form-data; boundary=b"}}) {
                try (RawHttp raw = new RawHttp(server.port())) {
                    RawHttp.Answer a = raw.send(head("POST", route[0], route[1], "Transfer-Encoding: chunked")
                            + size + "\r\n{\"input\":\"x\"}\r\n0\r\n\r\n").answer();
                    assertThat(a.status()).as(size + " " + route[0] + ": " + a.body()).isEqualTo(400);
                    assertThat(error(a).get("type").asText()).isEqualTo("invalid_request_error");
                    assertThat(a.closed()).as("closed after " + size).isTrue();
                }
            }
        }
        assertThat(http.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void clientsThatAbortMidBodyAreCountedAsClientClosedNotAsServerErrors() throws Exception {
        CAPTURE.clear();
        String before = metrics();
        for (String[] route : new String[][] {{"/v1/audio/speech", "Content-Type: application/json"},
                {"/v1/audio/voices", "Content-Type: multipart/form-data; boundary=b"}}) {
            try (RawHttp raw = new RawHttp(server.port())) {
                raw.send(head("POST", route[0], route[1], "Content-Length: 100000") + "{\"input\":\"abc");
                awaitInFlight(2); // the server is reading the body (the metrics request is the other one)
                raw.abort();
            }
            awaitInFlight(1);
            try (RawHttp raw = new RawHttp(server.port())) {
                raw.send(head("POST", route[0], route[1], "Transfer-Encoding: chunked") + "400\r\n--b\r\n");
                awaitInFlight(2);
                raw.abort();
            }
            awaitInFlight(1);
        }
        String after = metrics();
        assertThat(count(after, "tts_errors_total{type=\"client_closed\",status=\"499\"}")
                - count(before, "tts_errors_total{type=\"client_closed\",status=\"499\"}")).isEqualTo(4);
        assertThat(after).doesNotContainPattern("tts_http_requests_total\\{route=\"[^\"]*\",method=\"POST\","
                + "status=\"5\\d\\d\"}");
        List<LogRecord> logs = CAPTURE.records();
        assertThat(logs).noneMatch(r -> r.getLevel().intValue() >= Level.WARNING.intValue());
        assertThat(logs).noneMatch(r -> r.getThrown() != null && r.getLevel().intValue() >= Level.INFO.intValue());
        assertThat(logs).filteredOn(r -> r.getLoggerName().equals(FILTER_LOG.getName()))
                .anyMatch(r -> r.getLevel() == Level.FINE && r.getMessage().contains("went away")
                        && r.getMessage().contains("req_") && r.getThrown() == null);
    }

    /** Waits until {@code n} requests are in flight, counting the metrics request that asks. */
    private static void awaitInFlight(int n) throws InterruptedException {
        for (int i = 0; i < 400; i++) {
            if (metrics().contains("tts_http_in_flight_requests " + n + "\n")) {
                return;
            }
            Thread.sleep(25);
        }
        throw new AssertionError("never " + n + " requests in flight:\n" + metrics());
    }

    private static long count(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return (long) Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    @Test
    void brokenRequestHeadsAreAnsweredInTheEnvelopeWithARequestId() throws IOException {
        for (String bad : new String[] {
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nNo colon in this line\r\n\r\n",
                "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "a".repeat(40_000) + "\r\n\r\n",
                "GET /he alth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"}) {
            try (RawHttp raw = new RawHttp(server.port())) {
                RawHttp.Answer a = raw.send(bad).answer();
                assertThat(a.status()).as(bad.substring(0, 30)).isBetween(400, 499);
                assertThat(error(a).get("message").asText()).isNotBlank();
                assertThat(a.closed()).isTrue();
            }
        }
    }

    @Test
    void idleConnectionsAreClosed() {
        try (RawHttp raw = new RawHttp(server.port())) {
            // never sends a byte: closed after the idle timeout (500 ms here), long before the client gives up
            assertThat(raw.closedByServer()).isTrue();
        }
        try (RawHttp raw = new RawHttp(server.port())) {
            RawHttp.Answer a = raw.send(head("GET", "/health")).answer();
            assertThat(a.status()).isEqualTo(200);
            assertThat(a.closed()).as("an idle keep-alive connection is closed too").isTrue();
        }
    }

    @Test
    void connectionCloseIsHonoured() {
        for (String path : new String[] {"/health", "/v1/models", "/v1/nothing"}) {
            try (RawHttp raw = new RawHttp(server.port())) {
                RawHttp.Answer a = raw.send(head("GET", path, "Connection: close")).answer();
                assertThat(a.status()).isIn(200, 404);
                assertThat(a.header("connection")).isEqualToIgnoringCase("close");
                assertThat(a.closed()).as(path).isTrue();
            }
        }
    }

    @Test
    void uploadsBeyondThePoolGet429WithRetryAfter() throws Exception {
        byte[] good = Clips.voiceLike(6, 4, AudioFormat.WAV);
        try (RawHttp holder = new RawHttp(server.port())) {
            // an upload that sends its head and a little of its body, then waits: it holds the only place
            holder.send(head("POST", "/v1/audio/voices", "Content-Type: multipart/form-data; boundary=b",
                    "Content-Length: 5000000") + "--b\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\n");
            for (int i = 0; i < 400 && !metrics().contains("tts_voice_uploads_in_progress 1"); i++) {
                Thread.sleep(25);
            }
            assertThat(metrics()).contains("tts_voice_uploads_in_progress 1");
            HttpResponse<byte[]> busy = VoicesTest.upload(http, "second", good, "audio_sample");
            JsonNode e = Http.error(busy, 429);
            assertThat(e.get("type").asText()).isEqualTo("rate_limit_error");
            assertThat(e.get("code").asText()).isEqualTo("server_busy");
            assertThat(busy.headers().firstValue("retry-after")).hasValueSatisfying(v -> assertThat(Long.parseLong(v))
                    .isPositive());
            holder.abort();
        }
        for (int i = 0; i < 400 && !metrics().contains("tts_voice_uploads_in_progress 0"); i++) {
            Thread.sleep(25);
        }
        // the place is free again
        HttpResponse<byte[]> ok = VoicesTest.upload(http, "third", good, "audio_sample");
        assertThat(ok.statusCode()).as(new String(ok.body())).isEqualTo(201);
        assertThat(http.send(http.request("/v1/audio/voices/third").DELETE().build()).statusCode()).isEqualTo(200);
    }

    @Test
    void anInvalidAudioUploadNamesNoPathAndNoNativeInternals() {
        for (byte[] junk : new byte[][] {"this is not audio at all".repeat(100).getBytes(StandardCharsets.UTF_8),
                new byte[200_000], riffHeaderOnly()}) {
            HttpResponse<byte[]> r = VoicesTest.upload(http, "junk", junk, "audio_sample");
            JsonNode e = Http.error(r, 400);
            String m = e.get("message").asText();
            assertThat(e.get("code").asText()).isEqualTo("invalid_audio");
            assertThat(m).doesNotContain("/").doesNotContain("\\").doesNotContain("staging")
                    .doesNotContain("clip.bin").doesNotContain("setFormat").doesNotContain("avformat")
                    .doesNotContain("Exception").doesNotContainPattern(CLASS_NAME);
            assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain("tmp").doesNotContain("target");
        }
    }

    private static byte[] riffHeaderOnly() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes("RIFF\u0024\u0000\u0000\u0000WAVEfmt ".getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(new byte[64]);
        return out.toByteArray();
    }

    @Test
    void aVoiceIsAnsweredWithItsStoredIdWhateverTheCaseOfThePath() {
        assertThat(VoicesTest.upload(http, "okvoice", Clips.voiceLike(6, 5, AudioFormat.WAV), "audio_sample")
                .statusCode()).isEqualTo(201);
        assertThat(Http.json(http.get("/v1/audio/voices/OKVOICE")).get("id").asText()).isEqualTo("okvoice");
        HttpResponse<byte[]> d = http.send(http.request("/v1/audio/voices/OKVOICE").DELETE().build());
        assertThat(d.statusCode()).isEqualTo(200);
        assertThat(Http.json(d).get("id").asText()).isEqualTo("okvoice");
        Http.error(http.get("/v1/audio/voices/okvoice"), 404);
        Http.error(http.send(http.request("/v1/audio/voices/OKVOICE").DELETE().build()), 404);
    }

    @Test
    void theParserNitsHoldOverHttp() {
        JsonNode seed = Http.error(http.speech("{\"input\":\"x\",\"seed\":1180591620717411303424}"), 400);
        assertThat(seed.get("code").asText()).isEqualTo("integer_above_max_value");
        assertThat(seed.get("message").asText()).doesNotContain("but got an integer");
        JsonNode topK = Http.error(http.speech("{\"input\":\"x\",\"top_k\":1099511627776}"), 400);
        assertThat(topK.get("code").asText()).isEqualTo("integer_above_max_value");
        byte[] overlong = {'{', '"', 'i', 'n', 'p', 'u', 't', '"', ':', '"', 'a', (byte) 0xC0, (byte) 0x80, '"', '}'};
        JsonNode utf = Http.error(http.send(http.request("/v1/audio/speech").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(overlong)).build()), 400);
        assertThat(utf.get("code").asText()).isEqualTo("invalid_json");
        JsonNode rename = Http.error(http.send(http.request("/v1/audio/voices/default")
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofByteArray(overlong)).build()), 400);
        assertThat(rename.get("message").asText()).contains("UTF-8");
    }
}
