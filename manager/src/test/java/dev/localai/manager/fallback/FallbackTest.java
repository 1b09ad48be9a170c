package dev.localai.manager.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.FakeUpstream;
import dev.localai.manager.testing.Stack;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

/** Ordered fallback: GPU instance, then a CPU instance, then another host, then 503. */
class FallbackTest {
    static final String CONFIG = """
        {"version": 2,
         "gpu": {"vram_budget_mb": 5000, "probe": "none"},
         "gaming_mode": {"drain_timeout_s": 0.3, "vram_wait_s": 0.1},
         "defaults": {"start_timeout_s": 10, "stop_timeout_s": 1, "queue_timeout_s": 10,
                      "restart": {"backoff_initial_s": 30}},
         "remotes": {"other-host": {"url": "http://127.0.0.1:REMOTE", "probe_interval_s": 3600, "failure_threshold": 1}},
         "models": {
           "chatterbox-turbo": {"container": "tts", "port": PORT(tts), "type": "tts", "vram_mb": 1500,
                                "fallback": ["chatterbox-cpu", "other-host"]},
           "chatterbox-cpu": {"container": "tts-cpu", "port": PORT(tts-cpu), "type": "tts", "gpu": false, "unlisted": true},
           "big": {"container": "big", "port": PORT(big), "type": "tts", "vram_mb": 3000, "keep_warm": true},
           "llm": {"container": "llm", "port": PORT(llm), "type": "text", "vram_mb": 3500, "fallback": ["chatterbox-cpu"]}
         }}
        """;

    @Test
    void fallbackOrderIsGpuThenCpuThenAnotherHostThen503() throws Exception {
        try (FakeUpstream remote = new FakeUpstream(() -> true);
             Stack s = new Stack(CONFIG.replace("REMOTE", Integer.toString(remote.port())), null, "tts", "tts-cpu", "big", "llm")) {
            s.await("big", ModelState.READY);
            String speech = "{\"model\":\"chatterbox-turbo\",\"input\":\"hello\"}";

            // 1. the GPU instance serves when it can
            HttpResponse<String> r = s.post("/v1/audio/speech", speech);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Served-By")).hasValue("chatterbox-turbo");

            // 2. gaming mode: the CPU instance answers at once, the GPU one is not started
            s.post("/gaming-mode?enable=true", null);
            r = s.post("/v1/audio/speech", speech);
            assertThat(r.headers().firstValue("X-Served-By")).hasValue("chatterbox-cpu");
            assertThat(s.runtime.count("start", "tts")).isEqualTo(1);

            // 3. the CPU instance cannot start: the other host answers
            s.post("/stop/chatterbox-cpu", null);
            s.runtime.dieOnStart("tts-cpu", 1, false);
            r = s.post("/v1/audio/speech", speech);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Served-By")).hasValue("other-host");
            assertThat(remote.count("/v1/audio/speech")).isEqualTo(1);

            // 4. the other host is down too: a typed 503 (the last target's error)
            remote.close();
            r = s.post("/v1/audio/speech", speech);
            assertThat(r.statusCode()).isIn(502, 503);
            assertThat(new ObjectMapper().readTree(r.body()).get("error").get("code").asText())
                    .isIn("upstream_unreachable", "upstream_unavailable");
            // the breaker is open now: answered without trying the host
            r = s.post("/v1/audio/speech", speech);
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(new ObjectMapper().readTree(r.body()).get("error").get("code").asText()).isEqualTo("upstream_unavailable");
        }
    }

    @Test
    void aVramRefusalFallsThroughAtOnce() throws Exception {
        try (FakeUpstream remote = new FakeUpstream(() -> true);
             Stack s = new Stack(CONFIG.replace("REMOTE", Integer.toString(remote.port())), null, "tts", "tts-cpu", "big", "llm")) {
            s.await("big", ModelState.READY);
            // llm (3500 MiB) cannot fit next to the keep-warm "big" (3000 MiB) in 5000 MiB
            HttpResponse<String> r = s.post("/v1/completions", "{\"model\":\"llm\",\"prompt\":\"x\"}");
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Served-By")).hasValue("chatterbox-cpu");
            assertThat(s.runtime.count("start", "llm")).isZero();
            assertThat(s.runtime.count("stop", "big")).isZero();
        }
    }
}
