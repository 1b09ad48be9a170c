package dev.localai.manager.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.Stack;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The probes of issue 15 that the manager failed, kept as tests: cross-site control and DNS rebinding on the
 * repository's keyless set-up, container logs in answers to inference clients, overflowing parameters, Java
 * exception text and request ids in errors, and {@code docker logs -f} children that outlive their client.
 */
class HardEdgesTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final String CONFIG = """
        {"version": 2,
         "gpu": {"vram_budget_mb": 24000, "probe": "none"},
         "gaming_mode": {"drain_timeout_s": 0.3, "vram_wait_s": 0.1},
         "defaults": {"start_timeout_s": 10, "stop_timeout_s": 1, "queue_timeout_s": 10},
         "models": {
           "chatterbox-turbo": {"container": "tts", "port": PORT(tts), "type": "tts", "keep_warm": true, "vram_mb": 1536},
           "llama": {"container": "llama", "port": PORT(llama), "type": "text", "vram_mb": 12000}
         }}
        """;

    @TempDir
    Path tmp;

    private Stack open() throws Exception {
        Stack s = new Stack(CONFIG, tmp.resolve("state.json"), "tts", "llama");
        s.await("chatterbox-turbo", ModelState.READY);
        return s;
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return JSON.readTree(r.body()).get("error");
    }

    @Test
    void aForeignOriginCannotSwitchGamingModeOnAndNothingStops() throws Exception {
        try (Stack s = open()) {
            HttpResponse<String> r = s.http.send(s.request("/gaming-mode?enable=true").header("Origin", "https://evil.example")
                    .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("x")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(error(r).get("code").asText()).isEqualTo("origin_not_allowed");
            assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
            assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).as("no CORS by default").isEmpty();
            assertThat(s.manager.gaming()).isFalse();
            assertThat(s.runtime.count("stop", "tts")).isZero();
            assertThat(s.runtime.isRunning("tts")).isTrue();

            // a cross-site fetch without Origin but with Sec-Fetch-Site is refused the same way
            r = s.post("/gaming-mode?enable=true", null, "Sec-Fetch-Site", "cross-site");
            assertThat(r.statusCode()).isEqualTo(403);
            // and a text/plain body (a "simple request" that needs no preflight) is refused even without Origin
            r = s.http.send(s.request("/gaming-mode").header("Content-Type", "text/plain")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"enable\":true}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(415);
            assertThat(error(r).get("code").asText()).isEqualTo("unsupported_media_type");
            assertThat(s.manager.gaming()).isFalse();
            assertThat(s.runtime.isRunning("tts")).isTrue();

            // the same request from the manager's own page (same origin) works
            r = s.post("/gaming-mode?enable=true", null, "Origin", "http://127.0.0.1:" + s.server.port());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(s.manager.gaming()).isTrue();
        }
    }

    @Test
    void getUnloadFromAForeignOriginIsRefused() throws Exception {
        try (Stack s = open()) {
            HttpResponse<String> r = s.get("/unload", "Origin", "https://evil.example");
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(error(r).get("code").asText()).isEqualTo("origin_not_allowed");
            assertThat(s.runtime.isRunning("tts")).isTrue();
            assertThat(s.manager.view("chatterbox-turbo").state()).isEqualTo(ModelState.READY);
            // reading is fine cross-site (no CORS headers, so a foreign page cannot read the answer)
            assertThat(s.get("/status", "Origin", "https://evil.example").statusCode()).isEqualTo(200);
        }
    }

    @Test
    void aForeignHostNameIsRefusedAgainstDnsRebinding() throws Exception {
        try (Stack s = open()) {
            String answer = raw(s, "GET /status HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n");
            assertThat(answer).startsWith("HTTP/1.1 403").contains("host_not_allowed").doesNotContain("running_models");
            assertThat(raw(s, "GET /status HTTP/1.1\r\nHost: localhost:" + s.server.port() + "\r\nConnection: close\r\n\r\n"))
                    .startsWith("HTTP/1.1 200");
        }
    }

    private static String raw(Stack s, String request) throws Exception {
        try (Socket sock = new Socket("127.0.0.1", s.server.port())) {
            sock.setSoTimeout(10_000);
            OutputStream out = sock.getOutputStream();
            out.write(request.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            // read the head, then exactly Content-Length bytes (no reliance on the server closing)
            java.io.DataInputStream in = new java.io.DataInputStream(sock.getInputStream());
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) head.append((char) in.readUnsignedByte());
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?i)content-length: *(\\d+)").matcher(head);
            byte[] body = new byte[m.find() ? Integer.parseInt(m.group(1)) : 0];
            in.readFully(body);
            return head + new String(body, StandardCharsets.UTF_8);
        }
    }

    @Test
    void containerLogLinesReachOnlyAdminsThroughLogs() throws Exception {
        try (Stack s = open()) {
            s.runtime.dieOnStart("llama", 137, true); // its log says "CUDA out of memory while loading weights"
            HttpResponse<String> r = s.post("/v1/chat/completions", "{\"model\":\"llama\",\"messages\":[]}");
            assertThat(r.statusCode()).isEqualTo(503);
            assertThat(r.body()).contains("exit code 137").doesNotContain("CUDA out of memory", "booting");
            assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
            JsonNode st = JSON.readTree(s.get("/status").body());
            assertThat(st.get("models").get("llama").get("last_error").asText()).contains("exit code 137")
                    .doesNotContain("CUDA out of memory");
            assertThat(s.get("/logs/llama?tail=5").body()).contains("CUDA out of memory");
        }
    }

    @Test
    void absurdNumbersAreA400NeverA500() throws Exception {
        try (Stack s = open()) {
            for (String q : new String[] {"1e300", "-1", "NaN", "Infinity", "abc"}) {
                HttpResponse<String> r = s.post("/start/llama?wait_s=" + q, null);
                assertThat(r.statusCode()).as(q).isEqualTo(400);
                assertThat(error(r).get("code").asText()).isEqualTo("invalid_parameter");
            }
            assertThat(s.post("/gaming-mode?enable=true&wait_s=1e300", null).statusCode()).isEqualTo(400);
            assertThat(s.get("/logs/llama?tail=99999999999").statusCode()).isEqualTo(400);
        }
    }

    @Test
    void errorsCarryTheClientsRequestIdAndNoJavaText() throws Exception {
        try (Stack s = open()) {
            HttpResponse<String> r = s.get("/nope", "X-Request-Id", "abc-123");
            assertThat(r.statusCode()).isEqualTo(404);
            assertThat(r.headers().firstValue("X-Request-Id")).hasValue("abc-123");
            r = s.post("/v1/embeddings", "{\"model\":\"llama\",\"input\":\"x\"}", "X-Request-Id", "bad id <script>");
            assertThat(r.headers().firstValue("X-Request-Id")).isPresent().get().asString().doesNotContain(" ");
            r = s.post("/gaming-mode", "{\"enable\": tru");
            assertThat(r.statusCode()).isEqualTo(400);
            assertThat(r.body()).doesNotContain("Exception", "at dev.", "java.");
        }
    }

    @Test
    void followedLogsEndTheirDockerChildWhenTheClientGoes() throws Exception {
        try (Stack s = open()) {
            s.runtime.quietFollow = true;
            HttpResponse<InputStream> r = s.http.send(s.request("/logs/llama?follow=true&tail=2").GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(r.statusCode()).isEqualTo(200);
            InputStream body = r.body();
            assertThat(new String(body.readNBytes(7), StandardCharsets.UTF_8)).isEqualTo("booting");
            assertThat(s.runtime.liveFollows.get()).isEqualTo(1);
            body.close(); // the client goes while the container is quiet
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (s.runtime.liveFollows.get() > 0 && System.nanoTime() < deadline) Thread.sleep(50);
            assertThat(s.runtime.liveFollows.get()).as("docker logs -f ended").isZero();
        }
    }
}
