package dev.localai.manager.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.testing.Stack;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A cold start that never gets healthy: progress on the event stream while it waits, then a clear 504. */
class ColdStartTest {
    static final ObjectMapper JSON = new ObjectMapper();
    // health_expect 418: the fake upstream's /health answers 200, so the model never counts as healthy
    static final String CONFIG = """
        {"version": 2,
         "gpu": {"probe": "none"},
         "models": {
           "stuck": {"container": "stuck", "port": PORT(stuck), "type": "embedding", "start_timeout_s": 1.5,
                     "health_expect": 418, "queue_timeout_s": 30}
         }}
        """;

    @TempDir
    Path tmp;

    @Test
    void aModelThatNeverGetsHealthyReportsProgressThenGivesUpWithA504() throws Exception {
        try (Stack s = new Stack(CONFIG, tmp.resolve("state.json"), "stuck")) {
            HttpResponse<InputStream> events = s.http.send(s.request("/api/events").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            List<String> lines = new CopyOnWriteArrayList<>();
            Thread reader = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(events.body(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) lines.add(l);
                } catch (Exception e) {
                    // closed at the end of the test
                }
            });

            HttpResponse<String> r = s.post("/v1/embeddings", "{\"model\":\"stuck\",\"input\":\"x\"}");
            assertThat(r.statusCode()).isEqualTo(504);
            JsonNode err = JSON.readTree(r.body()).get("error");
            assertThat(err.get("code").asText()).isEqualTo("model_start_timeout");
            assertThat(err.get("message").asText()).contains("start timeout of 1.5 s", "GET /health", "never passed");
            assertThat(s.runtime.isRunning("stuck")).as("the start was given up").isFalse();

            s.manager.awaitCondition(v -> lines.stream().anyMatch(l -> l.contains("\"state\":\"failed\"")),
                    java.time.Duration.ofSeconds(10));
            assertThat(lines).contains("event: progress");
            assertThat(lines).anyMatch(l -> l.startsWith("data: ") && l.contains("\"model\":\"stuck\"")
                    && l.contains("\"phase\":\"health_check\"") && l.contains("\"timeout_s\":1"));
            events.body().close();
            reader.interrupt();
        }
    }
}
