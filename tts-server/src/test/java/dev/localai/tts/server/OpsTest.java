package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Models listings, health and readiness, metrics and the static playground. */
class OpsTest {
    static Http http;

    @BeforeAll
    static void start() {
        http = new Http(TestServers.shared());
    }

    @Test
    void modelsAreListedInOpenAiShape() {
        JsonNode list = Http.json(http.get("/v1/models"));
        assertThat(list.get("object").asText()).isEqualTo("list");
        java.util.List<String> ids = new java.util.ArrayList<>();
        list.get("data").forEach(m -> {
            ids.add(m.get("id").asText());
            assertThat(m.get("object").asText()).isEqualTo("model");
            assertThat(m.get("created").asLong()).isPositive();
            assertThat(m.get("owned_by").asText()).isNotBlank();
        });
        assertThat(ids).containsExactly("chatterbox-turbo", "tts-1", "tts-1-hd", "gpt-4o-mini-tts");
        assertThat(Http.json(http.get("/v1/models/tts-1")).get("id").asText()).isEqualTo("tts-1");
        assertThat(Http.json(http.get("/v1/audio/models")).get("models").get(0).get("id").asText())
                .isEqualTo("chatterbox-turbo");
    }

    @Test
    void livenessAndReadinessAreUpWithTheModelDescribed() {
        HttpResponse<byte[]> live = http.get("/health");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(Http.json(live).get("status").asText()).isEqualTo("ok");
        HttpResponse<byte[]> ready = http.get("/health/ready");
        assertThat(ready.statusCode()).isEqualTo(200);
        JsonNode r = Http.json(ready);
        assertThat(r.get("status").asText()).isEqualTo("ready");
        assertThat(r.get("model").get("id").asText()).isEqualTo("chatterbox-turbo");
        assertThat(r.get("model").get("device").asText()).isEqualTo("cpu");
    }

    @Test
    void metricsAreInPrometheusFormat() {
        assertThat(http.speech("{\"model\":\"tts-1\",\"input\":\"Count me.\",\"voice\":\"alloy\","
                + "\"response_format\":\"pcm\"}").statusCode()).isEqualTo(200);
        http.speech("{\"model\":\"tts-1\",\"input\":\"\",\"voice\":\"alloy\"}");
        HttpResponse<byte[]> m = http.get("/metrics");
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/plain; version=0.0.4"));
        String text = new String(m.body(), StandardCharsets.UTF_8);
        assertThat(text)
                .contains("# TYPE tts_http_requests_total counter")
                .containsPattern("tts_http_requests_total\\{route=\"/v1/audio/speech\",method=\"POST\",status=\"200\"} [1-9]")
                .containsPattern("tts_errors_total\\{type=\"invalid_request_error\",status=\"400\"} [1-9]")
                .containsPattern("tts_syntheses_total\\{mode=\"stream\",format=\"pcm\"} [1-9]")
                .contains("tts_time_to_first_audio_seconds_bucket{le=\"0.05\"}")
                .containsPattern("tts_time_to_first_audio_seconds_count [1-9]")
                .containsPattern("tts_real_time_factor_count [1-9]")
                .contains("tts_engine_queue_depth 0")
                .contains("tts_engine_ready 1")
                .containsPattern("tts_device_memory_used_bytes [1-9]");
        for (String line : text.split("\n")) {
            assertThat(line).matches("# (HELP|TYPE) .*|[a-z_]+(\\{([a-z_]+=\"[^\"]*\",?)*})? [-0-9.eE+NaInf]+");
        }
    }

    @Test
    void staticPlaygroundIsServedWithoutTraversal() throws Exception {
        HttpResponse<byte[]> index = http.get("/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(new String(index.body(), StandardCharsets.UTF_8)).containsIgnoringCase("<html");
        assertThat(http.get("/index.html").statusCode()).isEqualTo(200);
        for (String evil : new String[] {"/../application.yaml", "/%2e%2e/application.yaml", "/..%2fapplication.yaml",
                "/web/../application.yaml", "/.hidden", "/dev/localai/tts/server/Main.class", "/nothing.html"}) {
            HttpResponse<byte[]> r = http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(http.uri("/") + evil.substring(1))).GET().build());
            assertThat(r.statusCode()).as(evil).isIn(400, 404);
            assertThat(new String(r.body(), StandardCharsets.UTF_8)).doesNotContain("max-upload-bytes");
        }
    }
}
