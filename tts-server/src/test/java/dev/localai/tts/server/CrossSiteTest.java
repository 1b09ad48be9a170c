package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.api.Json;
import dev.localai.tts.core.engine.api.AudioFormat;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cross-site rule on default settings (docs/security.md): a foreign page can neither delete nor upload voices,
 * a rebinding name in {@code Host} is refused, and no CORS header is sent unless origins are configured.
 */
class CrossSiteTest {
    static final String EVIL = "https://evil.example";
    static TtsServer server;
    static Http http;
    static TtsServer dashboard;
    static Http dashHttp;

    @BeforeAll
    static void start() {
        server = TestServers.startReady(TestServers.config().build());
        http = new Http(server);
        dashboard = TestServers.startReady(TestServers.config().allowedOrigins(List.of("http://dashboard.local"))
                .build());
        dashHttp = new Http(dashboard);
    }

    @AfterAll
    static void stop() {
        server.shutdown();
        dashboard.shutdown();
    }

    private static HttpResponse<byte[]> upload(Http h, String name, String... headers) {
        String boundary = "----tts" + System.nanoTime();
        byte[] body = Clips.multipart(boundary, new Object[] {"name", null, name},
                new Object[] {"audio_sample", "ref.wav", Clips.voiceLike(6, 2, AudioFormat.WAV)});
        HttpRequest.Builder b = h.request("/v1/audio/voices")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body));
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return h.send(b.build());
    }

    private static HttpResponse<byte[]> delete(Http h, String id, String... headers) {
        HttpRequest.Builder b = h.request("/v1/audio/voices/" + id).DELETE();
        for (int i = 0; i < headers.length; i += 2) {
            b.header(headers[i], headers[i + 1]);
        }
        return h.send(b.build());
    }

    @Test
    void aForeignOriginCannotDeleteAVoiceAndTheVoiceStays() {
        assertThat(upload(http, "keepme").statusCode()).isEqualTo(201);
        JsonNode e = Http.error(delete(http, "keepme", "Origin", EVIL), 403);
        assertThat(e.get("code").asText()).isEqualTo("origin_not_allowed");
        assertThat(http.get("/v1/audio/voices/keepme").statusCode()).isEqualTo(200);
        // a cross-site fetch that hides its Origin still carries Sec-Fetch-Site
        Http.error(delete(http, "keepme", "Sec-Fetch-Site", "cross-site"), 403);
        assertThat(http.get("/v1/audio/voices/keepme").statusCode()).isEqualTo(200);
        // the playground itself (same origin) and non-browser clients (no Origin) may
        assertThat(delete(http, "keepme", "Origin", "http://127.0.0.1:" + server.port()).statusCode())
                .isEqualTo(200);
        Http.error(http.get("/v1/audio/voices/keepme"), 404);
    }

    @Test
    void aForeignOriginCannotUploadAVoice() {
        JsonNode e = Http.error(upload(http, "planted", "Origin", EVIL), 403);
        assertThat(e.get("code").asText()).isEqualTo("origin_not_allowed");
        Http.error(http.get("/v1/audio/voices/planted"), 404);
        Http.error(upload(http, "planted", "Origin", "null"), 403);
        Http.error(http.get("/v1/audio/voices/planted"), 404);
    }

    @Test
    void aForeignOriginCannotSpeakWithTextPlainEither() {
        HttpResponse<byte[]> r = http.send(http.request("/v1/audio/speech").header("Origin", EVIL)
                .header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"input\":\"x\"}")).build());
        assertThat(Http.error(r, 403).get("code").asText()).isEqualTo("origin_not_allowed");
        HttpResponse<byte[]> noOrigin = http.send(http.request("/v1/audio/speech").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{\"input\":\"x\"}")).build());
        assertThat(Http.error(noOrigin, 415).get("code").asText()).isEqualTo("unsupported_media_type");
    }

    @Test
    void aForeignPageMayStillRead() {
        HttpResponse<byte[]> r = http.send(http.request("/v1/models").header("Origin", EVIL).GET().build());
        assertThat(r.statusCode()).isEqualTo(200);
        // but without CORS headers the browser hides the answer from it
        assertThat(r.headers().firstValue("access-control-allow-origin")).isEmpty();
    }

    @Test
    void aRebindingHostIsRefused() {
        try (RawHttp raw = new RawHttp(server.port())) {
            RawHttp.Answer a = raw.send("GET /v1/models HTTP/1.1\r\nHost: attacker.example:" + server.port()
                    + "\r\n\r\n").answer();
            assertThat(a.status()).isEqualTo(403);
            assertThat(Json.MAPPER.readTree(a.body()).get("error").get("code").asText())
                    .isEqualTo("host_not_allowed");
            assertThat(a.header("x-request-id")).isNotBlank();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
        for (String host : new String[] {"localhost:" + server.port(), "127.0.0.1", "[::1]:1", "tts.localhost"}) {
            try (RawHttp raw = new RawHttp(server.port())) {
                assertThat(raw.send("GET /health HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                        .answer().status()).as(host).isEqualTo(200);
            }
        }
    }

    @Test
    void noCorsByDefaultAndPreflightsAreRefused() {
        HttpResponse<byte[]> pre = http.send(http.request("/v1/audio/voices/x").header("Origin", EVIL)
                .header("Access-Control-Request-Method", "DELETE")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(Http.error(pre, 403).get("code").asText()).isEqualTo("origin_not_allowed");
        assertThat(pre.headers().map().keySet()).noneMatch(k -> k.startsWith("access-control-"));
    }

    @Test
    void aConfiguredOriginGetsCorsAndMayChangeState() {
        HttpResponse<byte[]> pre = dashHttp.send(dashHttp.request("/v1/audio/speech")
                .header("Origin", "http://dashboard.local")
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization, content-type")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build());
        assertThat(pre.statusCode()).isEqualTo(204);
        assertThat(pre.headers().firstValue("access-control-allow-origin")).hasValue("http://dashboard.local");
        assertThat(pre.headers().firstValue("vary")).hasValueSatisfying(v -> assertThat(v).contains("Origin"));
        assertThat(pre.headers().firstValue("access-control-allow-methods")).hasValueSatisfying(v -> assertThat(v)
                .contains("POST"));
        assertThat(pre.headers().firstValue("access-control-allow-headers")).hasValueSatisfying(v -> assertThat(v)
                .containsIgnoringCase("authorization"));
        HttpResponse<byte[]> get = dashHttp.send(dashHttp.request("/v1/models").header("Origin",
                "http://dashboard.local").GET().build());
        assertThat(get.headers().firstValue("access-control-allow-origin")).hasValue("http://dashboard.local");
        assertThat(get.headers().firstValue("access-control-expose-headers")).hasValueSatisfying(v -> assertThat(v)
                .contains("X-Audio-Duration"));
        // another origin gets nothing, and may not change state
        HttpResponse<byte[]> other = dashHttp.send(dashHttp.request("/v1/models").header("Origin", EVIL).GET()
                .build());
        assertThat(other.headers().firstValue("access-control-allow-origin")).isEmpty();
        Http.error(upload(dashHttp, "fromevil", "Origin", EVIL), 403);
        assertThat(upload(dashHttp, "fromdash", "Origin", "http://dashboard.local").statusCode()).isEqualTo(201);
        assertThat(delete(dashHttp, "fromdash", "Origin", "http://dashboard.local").statusCode()).isEqualTo(200);
    }
}
