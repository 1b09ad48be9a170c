package dev.localai.manager.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.Stack;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ancestor's control API and the extras (models, running, metrics, events, logs, UI) over HTTP. */
class ControlApiTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CONFIG = """
        {"version": 2,
         %s
         "gpu": {"vram_budget_mb": 24000, "probe": "none"},
         "gaming_mode": {"drain_timeout_s": 0.3, "vram_wait_s": 0.1},
         "defaults": {"start_timeout_s": 10, "stop_timeout_s": 1, "queue_timeout_s": 10, "idle_timeout_s": 600},
         "models": {
           "chatterbox-turbo": {"container": "tts", "port": PORT(tts), "type": "tts", "keep_warm": true, "vram_mb": 1536,
                                "priority": 10},
           "qwen": {"container": "qwen", "port": PORT(qwen), "type": "text", "vram_mb": 14000, "exclusive_groups": ["llm"]},
           "llama": {"container": "llama", "port": PORT(llama), "type": "text", "vram_mb": 12000, "exclusive_groups": ["llm"]}
         }}
        """;

    @TempDir
    Path tmp;

    private Stack open(String auth) throws Exception {
        Stack s = new Stack(CONFIG.formatted(auth), tmp.resolve("state.json"), "tts", "qwen", "llama");
        s.await("chatterbox-turbo", ModelState.READY);
        return s;
    }

    static JsonNode json(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body());
    }

    @Test
    void statusCarriesBothGenerationsOfFields() throws Exception {
        try (Stack s = open("")) {
            JsonNode st = json(s.get("/status"));
            // old field set (dashboard)
            assertThat(st.get("gaming_mode").asBoolean()).isFalse();
            assertThat(st.get("safe_to_game").asBoolean()).isFalse();
            assertThat(st.get("running_models")).hasSize(1);
            JsonNode tts = st.get("running_models").get(0);
            assertThat(tts.get("name").asText()).isEqualTo("chatterbox-turbo");
            assertThat(tts.get("type").asText()).isEqualTo("tts");
            assertThat(tts.get("container").asText()).isEqualTo("tts");
            assertThat(tts.get("status").asText()).as("the ancestor's word").isEqualTo("running");
            assertThat(tts.get("state").asText()).isEqualTo("ready");
            assertThat(st.get("stopped_models")).extracting(n -> n.get("name").asText()).containsExactly("qwen", "llama");
            // new field set (TUI)
            assertThat(st.get("mode").asText()).as("the ancestor's run mode").isEqualTo("on-demand");
            assertThat(st.get("gaming_mode_enabled").asBoolean()).as("the feature is available").isTrue();
            assertThat(st.get("gaming_mode_active").asBoolean()).isFalse();
            assertThat(st.get("manager_mode").asText()).isEqualTo("normal");
            assertThat(st.has("gpu_vram_gb")).isTrue();
            assertThat(st.get("idle_timeout").asLong()).isEqualTo(600);
            assertThat(st.get("running")).hasSize(1);
            assertThat(st.get("stopped")).hasSize(2);
            assertThat(st.get("active_requests").asInt()).isZero();
            assertThat(st.get("summary").get("total").asInt()).isEqualTo(3);
            assertThat(st.get("summary").get("available").asInt()).isEqualTo(1);
            assertThat(st.get("summary").get("running").asInt()).isEqualTo(1);
            assertThat(st.get("summary").get("total_models").asInt()).isEqualTo(3);
            assertThat(st.get("summary").get("stopped").asInt()).isEqualTo(2);
            assertThat(st.get("idle_timeout_seconds").asLong()).isEqualTo(600);
            assertThat(st.get("container_runtime").get("available").asBoolean()).isTrue();
        }
    }

    @Test
    void gamingModeAcceptsTheQueryAndTheJsonBodyAndIsReportedInStatus() throws Exception {
        try (Stack s = open("")) {
            HttpResponse<String> on = s.post("/gaming-mode?enable=true", null);
            assertThat(on.statusCode()).isEqualTo(200);
            assertThat(json(on).get("safe_to_game").asBoolean()).isTrue();
            assertThat(json(on).get("stopped_models")).extracting(JsonNode::asText).containsExactly("chatterbox-turbo");
            JsonNode st = json(s.get("/status"));
            assertThat(st.get("gaming_mode").asBoolean()).isTrue();
            assertThat(st.get("safe_to_game").asBoolean()).isTrue();
            assertThat(st.get("gaming_mode_active").asBoolean()).isTrue();
            assertThat(st.get("manager_mode").asText()).isEqualTo("gaming");
            assertThat(s.runtime.isRunning("tts")).isFalse();
            // /health does not call a keep-warm model stopped for gaming "degraded"
            assertThat(s.get("/health").statusCode()).isEqualTo(200);

            HttpResponse<String> off = s.post("/gaming-mode", "{\"enable\": false}");
            assertThat(off.statusCode()).isEqualTo(202);
            assertThat(json(off).get("gaming_mode").asBoolean()).isFalse();
            s.await("chatterbox-turbo", ModelState.READY);
            assertThat(json(s.get("/status")).get("safe_to_game").asBoolean()).isFalse();

            HttpResponse<String> bad = s.post("/gaming-mode", "{\"enable\": \"maybe\"}");
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(json(bad).get("error").get("code").asText()).isEqualTo("invalid_parameter");
            assertThat(s.post("/gaming-mode?enable=maybe", null).statusCode()).isEqualTo(400);
            assertThat(s.post("/gaming-mode", "{oops").statusCode()).isEqualTo(400);
            assertThat(s.manager.gaming()).isFalse();

            // like the ancestor, a bare POST turns gaming mode on
            HttpResponse<String> bare = s.post("/gaming-mode", null);
            assertThat(bare.statusCode()).isEqualTo(200);
            assertThat(json(bare).get("gaming_mode").asBoolean()).isTrue();
            assertThat(json(bare).get("message").asText()).startsWith("Gaming mode enabled");
        }
    }

    @Test
    void startStopSwapAndStopAll() throws Exception {
        try (Stack s = open("")) {
            HttpResponse<String> start = s.post("/start/qwen", null);
            assertThat(start.statusCode()).isEqualTo(200);
            assertThat(json(start).get("status").asText()).isEqualTo("running");
            assertThat(json(start).get("state").asText()).isEqualTo("ready");
            HttpResponse<String> swap = s.post("/swap/llama", null);
            assertThat(swap.statusCode()).isEqualTo(200);
            assertThat(json(swap).get("stopped")).extracting(JsonNode::asText).containsExactly("qwen");
            assertThat(s.manager.view("llama").state()).isEqualTo(ModelState.READY);
            assertThat(s.manager.view("qwen").state()).isEqualTo(ModelState.STOPPED);
            assertThat(s.manager.view("chatterbox-turbo").state()).as("keep-warm TTS survives a swap").isEqualTo(ModelState.READY);

            JsonNode running = json(s.get("/running"));
            assertThat(running.get("running")).extracting(n -> n.get("model").asText())
                    .containsExactlyInAnyOrder("chatterbox-turbo", "llama");

            HttpResponse<String> stop = s.post("/stop/llama", null);
            assertThat(stop.statusCode()).isEqualTo(200);
            assertThat(json(stop).get("status").asText()).isEqualTo("stopped");
            assertThat(s.runtime.isRunning("llama")).isFalse();

            HttpResponse<String> all = s.post("/stop-all", null);
            assertThat(all.statusCode()).isEqualTo(200);
            assertThat(json(all).get("stopped")).extracting(JsonNode::asText).containsExactly("chatterbox-turbo");
            assertThat(s.runtime.isRunning("tts")).isFalse();

            assertThat(s.post("/start/nope", null).statusCode()).isEqualTo(404);
            HttpResponse<String> unload = s.post("/api/models/unload", null);
            assertThat(unload.statusCode()).isEqualTo(200);
        }
    }

    @Test
    void modelsListCarriesStateTypeAndVram() throws Exception {
        try (Stack s = open("")) {
            JsonNode m = json(s.get("/v1/models"));
            assertThat(m.get("object").asText()).isEqualTo("list");
            JsonNode tts = m.get("data").get(0);
            assertThat(tts.get("id").asText()).isEqualTo("chatterbox-turbo");
            assertThat(tts.get("object").asText()).isEqualTo("model");
            assertThat(tts.get("state").asText()).isEqualTo("ready");
            assertThat(tts.get("type").asText()).isEqualTo("tts");
            assertThat(tts.get("vram_gb").asDouble()).isEqualTo(1.5);
            assertThat(m.get("data").get(1).get("state").asText()).isEqualTo("stopped");
            JsonNode one = json(s.get("/v1/models/qwen"));
            assertThat(one.get("id").asText()).isEqualTo("qwen");
            assertThat(one.get("vram_mb").asLong()).isEqualTo(14000);
            assertThat(s.get("/v1/models/nope").statusCode()).isEqualTo(404);
        }
    }

    @Test
    void metricsAreInPrometheusTextFormat() throws Exception {
        try (Stack s = open("")) {
            s.post("/v1/audio/speech", "{\"model\":\"chatterbox-turbo\",\"input\":\"x\"}");
            HttpResponse<String> r = s.get("/metrics");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain"));
            assertThat(r.body()).contains("# TYPE manager_model_state gauge",
                    "manager_model_state{model=\"chatterbox-turbo\",state=\"ready\"} 1",
                    "manager_gaming_mode 0",
                    "manager_requests_total{model=\"chatterbox-turbo\",endpoint=\"/v1/audio/speech\",code=\"200\"} 1",
                    "manager_model_starts_total{model=\"chatterbox-turbo\",result=\"ok\"} 1",
                    "manager_time_to_first_byte_seconds_count");
        }
    }

    @Test
    void eventStreamSendsASnapshotThenStateChanges() throws Exception {
        try (Stack s = open("");
             ExecutorService ex = Executors.newVirtualThreadPerTaskExecutor()) {
            HttpResponse<java.io.InputStream> r = s.http.send(s.request("/api/events").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
            BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8));
            Future<List<String>> lines = ex.submit(() -> {
                List<String> got = new ArrayList<>();
                String line;
                while ((line = in.readLine()) != null) {
                    got.add(line);
                    if (line.contains("\"model\":\"qwen\"") && line.contains("\"state\":\"ready\"") && !line.contains("snapshot")) break;
                }
                return got;
            });
            // wait for the snapshot to be sent, so the subscription exists before the change
            assertThat(s.manager.awaitCondition(v -> s.manager.events().subscriberCount() == 1, java.time.Duration.ofSeconds(10))).isTrue();
            s.post("/start/qwen", null);
            List<String> got = lines.get(10, TimeUnit.SECONDS);
            assertThat(got).contains("event: state");
            assertThat(got).anyMatch(l -> l.contains("\"model\":\"chatterbox-turbo\"") && l.contains("\"snapshot\":true"));
            assertThat(got).anyMatch(l -> l.contains("\"model\":\"qwen\"") && l.contains("\"state\":\"starting\""));
            r.body().close();
        }
    }

    @Test
    void containerLogsAreServed() throws Exception {
        try (Stack s = open("")) {
            HttpResponse<String> r = s.get("/logs/chatterbox-turbo?tail=20");
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("booting tts");
            assertThat(s.get("/logs/chatterbox-turbo?tail=x").statusCode()).isEqualTo(400);
        }
    }

    @Test
    void healthIsDegradedWhenAKeepWarmModelIsDown() throws Exception {
        try (Stack s = open("")) {
            assertThat(s.get("/healthz").statusCode()).isEqualTo(200);
            HttpResponse<String> healthy = s.get("/health");
            assertThat(healthy.statusCode()).isEqualTo(200);
            assertThat(json(healthy).get("status").asText()).isEqualTo("healthy");
            s.runtime.crash("tts", 1, false);
            s.manager.checkNow("chatterbox-turbo");
            HttpResponse<String> h = s.get("/health");
            assertThat(h.statusCode()).isEqualTo(503);
            assertThat(json(h).get("status").asText()).isEqualTo("degraded");
            assertThat(json(h).get("down")).extracting(JsonNode::asText).containsExactly("chatterbox-turbo");
        }
    }

    @Test
    void inferenceKeysCannotControlAdminKeysCanAndLivenessIsOpen() throws Exception {
        try (Stack s = open("\"auth\": {\"api_keys\": [\"inf-key\"], \"admin_keys\": [\"adm-key\"]},")) {
            assertThat(s.get("/healthz").statusCode()).isEqualTo(200);
            assertThat(s.get("/health").statusCode()).isEqualTo(200);
            HttpResponse<String> none = s.get("/v1/models");
            assertThat(none.statusCode()).isEqualTo(401);
            assertThat(json(none).get("error").get("code").asText()).isEqualTo("invalid_api_key");
            assertThat(s.get("/v1/models", "Authorization", "Bearer wrong").statusCode()).isEqualTo(401);
            assertThat(s.get("/v1/models", "Authorization", "Bearer inf-key").statusCode()).isEqualTo(200);
            assertThat(s.get("/status", "x-api-key", "inf-key").statusCode()).isEqualTo(200);
            String basic = java.util.Base64.getEncoder().encodeToString("user:inf-key".getBytes(StandardCharsets.UTF_8));
            assertThat(s.get("/running", "Authorization", "Basic " + basic).statusCode()).isEqualTo(200);
            assertThat(s.get("/metrics").statusCode()).isEqualTo(401);
            HttpResponse<String> speech = s.post("/v1/audio/speech", "{\"model\":\"chatterbox-turbo\",\"input\":\"x\"}",
                    "Authorization", "Bearer inf-key");
            assertThat(speech.statusCode()).isEqualTo(200);

            HttpResponse<String> denied = s.post("/gaming-mode?enable=true", null, "Authorization", "Bearer inf-key");
            assertThat(denied.statusCode()).isEqualTo(403);
            assertThat(s.manager.gaming()).isFalse();
            assertThat(s.post("/stop-all", null, "Authorization", "Bearer inf-key").statusCode()).isEqualTo(403);
            assertThat(s.get("/logs/chatterbox-turbo", "Authorization", "Bearer inf-key").statusCode()).isEqualTo(403);

            HttpResponse<String> ok = s.post("/gaming-mode?enable=true", null, "Authorization", "Bearer adm-key");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(s.manager.gaming()).isTrue();
        }
    }

    @Test
    void theHomeLabPageIsServedWithStableControls() throws Exception {
        try (Stack s = open("")) {
            HttpResponse<String> page = s.get("/ui");
            assertThat(page.statusCode()).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/html"));
            assertThat(page.body()).contains("id=\"gaming-toggle\"", "id=\"models\"", "id=\"safe-to-game\"", "id=\"vram\"",
                    "id=\"events\"", "<label", "lang=\"en\"");
            HttpResponse<String> js = s.get("/ui/app.js");
            assertThat(js.statusCode()).isEqualTo(200);
            assertThat(js.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).contains("javascript"));
            assertThat(js.body()).contains("/status", "/gaming-mode", "/api/events");
            assertThat(s.get("/ui/app.css").statusCode()).isEqualTo(200);
            assertThat(s.get("/ui/../models.json").statusCode()).isEqualTo(404);
        }
    }
}
