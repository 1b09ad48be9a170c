package dev.localai.manager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.FakeUpstream;
import dev.localai.manager.testing.ManualClock;
import dev.localai.manager.testing.Stack;
import java.io.InputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The idle timer over a real proxied stream: it never fires while the stream runs, and counts from its end. */
class IdleDuringStreamTest {
    @Test
    void idleTimerNeverFiresMidStream() throws Exception {
        ManualClock clock = new ManualClock();
        String cfg = """
            {"version": 2, "gpu": {"probe": "none"},
             "defaults": {"start_timeout_s": 10, "stop_timeout_s": 1, "idle_timeout_s": 30},
             "models": {"llm": {"container": "llm", "port": PORT(llm), "type": "text"}}}""";
        try (Stack s = new Stack(clock, cfg, null, "llm")) {
            FakeUpstream llm = s.upstream("llm");
            HttpResponse<InputStream> r = s.postStream("/v1/chat/completions", "{\"model\":\"llm\",\"stream\":true}");
            try (InputStream in = r.body()) {
                assertThat(in.readNBytes(FakeUpstream.chunk(0).length)).isEqualTo(FakeUpstream.chunk(0));
                clock.advance(Duration.ofMinutes(10)); // twenty idle timeouts into the stream
                s.manager.tick();
                assertThat(s.manager.view("llm").state()).isEqualTo(ModelState.READY);
                assertThat(s.manager.view("llm").inflight()).isEqualTo(1);
                llm.chunks.release(3);
                assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).endsWith("data: [DONE]\n\n");
            }
            assertThat(s.manager.awaitCondition(v -> v.get(0).inflight() == 0, Duration.ofSeconds(10))).isTrue();
            s.manager.tick();
            assertThat(s.manager.view("llm").state()).as("idle time counts from the end").isEqualTo(ModelState.READY);
            clock.advance(Duration.ofSeconds(31));
            s.manager.tick();
            s.await("llm", ModelState.STOPPED);
            assertThat(s.runtime.isRunning("llm")).isFalse();
        }
    }
}
