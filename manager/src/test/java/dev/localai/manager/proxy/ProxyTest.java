package dev.localai.manager.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.FakeUpstream;
import dev.localai.manager.testing.Stack;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The OpenAI proxy end to end over loopback HTTP: routing, streaming, cancellation, errors, fallback. */
class ProxyTest {
    static final String CONFIG = """
        {"version": 2,
         "gpu": {"vram_budget_mb": 24000, "probe": "none"},
         "gaming_mode": {"drain_timeout_s": 0.3, "vram_wait_s": 0.1},
         "defaults": {"start_timeout_s": 10, "stop_timeout_s": 1, "queue_timeout_s": 10,
                      "restart": {"backoff_initial_s": 1}},
         "models": {
           "chatterbox-turbo": {"container": "tts", "port": PORT(tts), "type": "tts", "keep_warm": true,
                                "aliases": ["tts-1"], "vram_mb": 1800},
           "llm": {"container": "llm", "port": PORT(llm), "type": "text", "vram_mb": 14000, "exclusive_groups": ["llm"],
                   "upstream_model": "Qwen/Qwen2.5-14B-Instruct-AWQ", "fallback": ["llm-cpu"]},
           "llm-cpu": {"container": "llm-cpu", "port": PORT(llm-cpu), "type": "text", "gpu": false, "unlisted": true},
           "whisper": {"container": "whisper", "port": PORT(whisper), "type": "stt", "aliases": ["whisper-1"]}
         }}
        """;
    static final ObjectMapper JSON = new ObjectMapper();

    Stack stack;

    @BeforeEach
    void up() throws Exception {
        stack = new Stack(CONFIG, null, "tts", "llm", "llm-cpu", "whisper");
        stack.await("chatterbox-turbo", ModelState.READY);
    }

    @AfterEach
    void down() {
        stack.close();
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        JsonNode n = JSON.readTree(r.body());
        assertThat(n.has("error")).as(r.body()).isTrue();
        JsonNode e = n.get("error");
        assertThat(e.fieldNames()).toIterable().containsExactly("message", "type", "param", "code");
        return e;
    }

    @Test
    void theBrowsersOriginAndFetchMetadataStayAtTheManager() throws Exception {
        HttpRequest.Builder b = stack.request("/v1/audio/speech");
        java.net.URI uri = b.build().uri();
        HttpResponse<byte[]> r = stack.http.send(b
                .header("Content-Type", "application/json")
                .header("Origin", uri.getScheme() + "://" + uri.getAuthority())
                .header("Sec-Fetch-Site", "same-origin")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"tts-1\",\"input\":\"Hello\",\"voice\":\"default\"}"))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).as("a same-origin page may call the manager").isEqualTo(200);
        FakeUpstream.Seen seen = stack.upstream("tts").seen.get(stack.upstream("tts").seen.size() - 1);
        assertThat(seen.headers().keySet()).as("the model server is called by the manager, not by the page")
                .noneMatch(h -> h.equalsIgnoreCase("Origin") || h.toLowerCase(java.util.Locale.ROOT)
                        .startsWith("sec-fetch-"));
    }

    @Test
    void speechAudioIsStreamedThroughByteForByteByAlias() throws Exception {
        HttpResponse<byte[]> r = stack.http.send(stack.request("/v1/audio/speech")
                .header("Content-Type", "application/json")
                .header("Authorization", "Bearer client-secret")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"model\":\"tts-1\",\"input\":\"Hello\",\"voice\":\"default\",\"response_format\":\"wav\"}"))
                .build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("audio/wav");
        assertThat(r.headers().firstValue("X-Audio-Duration")).hasValue("12.5");
        assertThat(r.headers().firstValue("X-Served-By")).hasValue("chatterbox-turbo");
        assertThat(r.body()).isEqualTo(FakeUpstream.AUDIO);
        FakeUpstream.Seen seen = stack.upstream("tts").seen.get(0);
        assertThat(seen.headers().keySet()).as("the client's key is never forwarded upstream")
                .noneMatch(h -> h.equalsIgnoreCase("Authorization"));
        assertThat(seen.headers().keySet()).anyMatch(h -> h.equalsIgnoreCase("X-Request-Id"));
    }

    @Test
    void sseChunksReachTheClientBeforeTheUpstreamFinishes() throws Exception {
        FakeUpstream llm = stack.upstream("llm");
        HttpResponse<InputStream> r = stack.postStream("/v1/chat/completions",
                "{\"model\":\"llm\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/event-stream"));
        assertThat(r.headers().firstValue("X-Accel-Buffering")).hasValue("no");
        try (InputStream in = r.body()) {
            // the upstream holds every later chunk until released: the first arriving proves nothing is buffered
            byte[] first = in.readNBytes(FakeUpstream.chunk(0).length);
            assertThat(first).isEqualTo(FakeUpstream.chunk(0));
            assertThat(llm.chunks.hasQueuedThreads() || llm.chunks.availablePermits() == 0).isTrue();
            llm.chunks.release(1);
            assertThat(in.readNBytes(FakeUpstream.chunk(1).length)).isEqualTo(FakeUpstream.chunk(1));
            llm.chunks.release(2);
            String rest = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            assertThat(rest).isEqualTo(new String(FakeUpstream.chunk(2), StandardCharsets.UTF_8)
                    + new String(FakeUpstream.chunk(3), StandardCharsets.UTF_8) + "data: [DONE]\n\n");
        }
        JsonNode fwd = JSON.readTree(llm.seen.get(0).body());
        assertThat(fwd.get("model").asText()).as("upstream_model rewrite").isEqualTo("Qwen/Qwen2.5-14B-Instruct-AWQ");
        assertThat(fwd.get("stream").asBoolean()).isTrue();
    }

    @Test
    void aClientDisconnectCancelsTheUpstreamRequest() throws Exception {
        FakeUpstream llm = stack.upstream("llm");
        llm.moreChunks = 100_000;
        HttpResponse<InputStream> r = stack.postStream("/v1/chat/completions", "{\"model\":\"llm\",\"stream\":true}");
        InputStream in = r.body();
        assertThat(in.readNBytes(FakeUpstream.chunk(0).length)).isEqualTo(FakeUpstream.chunk(0));
        in.close();
        // keep the upstream producing until its writes fail because the manager dropped the connection
        boolean cancelled = false;
        for (int i = 0; i < 2000 && !cancelled; i++) {
            llm.chunks.release(5);
            cancelled = llm.disconnected.await(5, TimeUnit.MILLISECONDS);
        }
        assertThat(cancelled).as("upstream saw the cancellation").isTrue();
        assertThat(stack.manager.awaitCondition(vs -> vs.stream().allMatch(v -> v.inflight() == 0), Duration.ofSeconds(10)))
                .as("the lease is released").isTrue();
        assertThat(stack.manager.metrics().counter("manager_client_disconnects_total", "model=\"llm\"")).isEqualTo(1);
    }

    @Test
    void gamingModeDuringAStreamCutsItAfterTheDrainDeadlineAndRefusesNewRequests() throws Exception {
        stack.manager.config(); // llm only (no fallback test here): use the TTS model, which has none
        FakeUpstream llm = stack.upstream("llm");
        HttpResponse<InputStream> r = stack.postStream("/v1/chat/completions", "{\"model\":\"llm\",\"stream\":true}");
        InputStream in = r.body();
        assertThat(in.readNBytes(FakeUpstream.chunk(0).length)).isEqualTo(FakeUpstream.chunk(0));

        HttpResponse<String> g = stack.post("/gaming-mode?enable=true", null);
        assertThat(g.statusCode()).isEqualTo(200);
        JsonNode gj = JSON.readTree(g.body());
        assertThat(gj.get("gaming_mode").asBoolean()).isTrue();
        assertThat(gj.get("safe_to_game").asBoolean()).isTrue();
        assertThat(gj.get("stopped_models")).extracting(JsonNode::asText).containsExactlyInAnyOrder("chatterbox-turbo", "llm");

        // the stream was cut: it never completes with [DONE]
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        Throwable t = catchThrowable(() -> in.transferTo(got));
        assertThat(got.toString(StandardCharsets.UTF_8)).doesNotContain("[DONE]");
        assertThat(t == null || t instanceof java.io.IOException).isTrue();
        assertThat(stack.runtime.isRunning("llm")).isFalse();
        assertThat(stack.runtime.isRunning("tts")).isFalse();

        HttpResponse<String> refused = stack.post("/v1/audio/speech", "{\"model\":\"chatterbox-turbo\",\"input\":\"x\"}");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isPositive());
        assertThat(error(refused).get("code").asText()).isEqualTo("gaming_mode_active");
        assertThat(llm.count("/v1/chat/completions")).isEqualTo(1);
    }

    @Test
    void gamingModeFallsThroughToTheCpuFallbackAtOnce() throws Exception {
        stack.post("/gaming-mode", "{\"enable\": true}");
        HttpResponse<String> r = stack.post("/v1/completions", "{\"model\":\"llm\",\"prompt\":\"hi\"}");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Served-By")).hasValue("llm-cpu");
        assertThat(stack.upstream("llm-cpu").count("/v1/completions")).isEqualTo(1);
        assertThat(stack.runtime.count("start", "llm")).isZero();
    }

    @Test
    void multipartTranscriptionIsRoutedByItsModelField() throws Exception {
        String boundary = "----manager-test-boundary";
        byte[] audio = new byte[70_000];
        new java.util.Random(7).nextBytes(audio);
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.wav\"\r\n"
                + "Content-Type: audio/wav\r\n\r\n").getBytes(StandardCharsets.UTF_8));
        body.write(audio);
        body.write(("\r\n--" + boundary + "\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n--"
                + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpResponse<String> r = stack.http.send(stack.request("/v1/audio/transcriptions")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Served-By")).hasValue("whisper");
        FakeUpstream.Seen seen = stack.upstream("whisper").seen.get(0);
        assertThat(seen.body()).as("multipart body forwarded unchanged").isEqualTo(body.toByteArray());
        assertThat(seen.headers().get("Content-type")).anySatisfy(v -> assertThat(v).contains("boundary=" + boundary));
    }

    @Test
    void errorsHaveOpenAisShapeAndTheResearchCodes() throws Exception {
        HttpResponse<String> unknown = stack.post("/v1/chat/completions", "{\"model\":\"gpt-9\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(error(unknown).get("code").asText()).isEqualTo("model_not_found");
        assertThat(error(unknown).get("type").asText()).isEqualTo("invalid_request_error");

        HttpResponse<String> wrongType = stack.post("/v1/chat/completions", "{\"model\":\"chatterbox-turbo\"}");
        assertThat(wrongType.statusCode()).isEqualTo(400);
        assertThat(error(wrongType).get("code").asText()).isEqualTo("unsupported_model_for_endpoint");

        HttpResponse<String> noModel = stack.post("/v1/embeddings", "{\"input\":\"x\"}");
        assertThat(noModel.statusCode()).isEqualTo(400);
        assertThat(error(noModel).get("code").asText()).isEqualTo("model_required");

        HttpResponse<String> notJson = stack.post("/v1/chat/completions", "{not json");
        assertThat(notJson.statusCode()).isEqualTo(400);
        assertThat(error(notJson).get("code").asText()).isEqualTo("invalid_json");

        HttpResponse<String> route = stack.get("/v2/nothing");
        assertThat(route.statusCode()).isEqualTo(404);
        assertThat(error(route).get("code").asText()).isEqualTo("not_found");

        stack.runtime.dieOnStart("whisper", 1, false);
        HttpResponse<String> failed = stack.post("/v1/audio/transcriptions?model=whisper", "{}");
        assertThat(failed.statusCode()).isEqualTo(503);
        assertThat(error(failed).get("code").asText()).isEqualTo("model_start_failed");
        assertThat(failed.headers().firstValue("Retry-After")).isPresent();
    }

    @Test
    void speechWithoutAModelGoesToTheDefaultTtsModelAsTheDashboardSendsIt() throws Exception {
        HttpResponse<byte[]> r = stack.http.send(stack.request("/v1/audio/speech")
                .header("Content-Type", "application/json").header("Authorization", "Bearer client-secret")
                .POST(HttpRequest.BodyPublishers.ofString("{\"input\": \"Hello world\"}")).build(),
                HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Served-By")).hasValue("chatterbox-turbo");
        assertThat(r.body()).isEqualTo(FakeUpstream.AUDIO);
    }

    @Test
    void theTtsServersVoicesAndPlaygroundAreReachableThroughTheManager() throws Exception {
        HttpResponse<String> voices = stack.get("/v1/audio/voices");
        assertThat(voices.statusCode()).as(voices.body()).isEqualTo(200);
        assertThat(voices.headers().firstValue("X-Served-By")).hasValue("chatterbox-turbo");
        assertThat(voices.body()).contains("\"path\":\"/v1/audio/voices\"");

        HttpResponse<String> del = stack.http.send(stack.request("/v1/audio/voices/alice").DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(del.statusCode()).isEqualTo(200);
        assertThat(stack.upstream("tts").seen).anySatisfy(s -> {
            assertThat(s.method()).isEqualTo("DELETE");
            assertThat(s.path()).isEqualTo("/v1/audio/voices/alice");
        });

        HttpResponse<String> page = stack.get("/tts/index.html");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("\"path\":\"/index.html\"");
        HttpResponse<String> root = stack.get("/tts/");
        assertThat(root.body()).contains("\"path\":\"/\"");
        HttpResponse<String> api = stack.get("/tts/v1/audio/voices");
        assertThat(api.body()).contains("\"path\":\"/v1/audio/voices\"");
    }

    @Test
    void upstreamUnreachableIs502() throws Exception {
        stack.await("chatterbox-turbo", ModelState.READY);
        stack.upstream("tts").close(); // the container "runs" but its port is closed
        HttpResponse<String> r = stack.post("/v1/audio/speech", "{\"model\":\"chatterbox-turbo\",\"input\":\"x\"}");
        assertThat(r.statusCode()).isEqualTo(502);
        assertThat(error(r).get("code").asText()).isEqualTo("upstream_unreachable");
    }

    @Test
    void oversizedBodiesAre413InOpenAisShapeWithOrWithoutContentLength() throws Exception {
        try (Stack small = new Stack(CONFIG.replace("\"version\": 2,", "\"version\": 2, \"server\": {\"max_request_body_mb\": 0.01},"),
                null, "tts", "llm", "llm-cpu", "whisper")) {
            byte[] big = new byte[64 * 1024];
            java.util.Arrays.fill(big, (byte) ' ');
            HttpResponse<String> declared = small.http.send(small.request("/v1/chat/completions")
                    .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofByteArray(big)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(declared.statusCode()).isEqualTo(413);
            assertThat(error(declared).get("code").asText()).isEqualTo("request_too_large");
            // chunked: no Content-Length, the limit is found while reading
            HttpResponse<String> chunked = small.http.send(small.request("/v1/chat/completions")
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(big))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chunked.statusCode()).isEqualTo(413);
            assertThat(error(chunked).get("code").asText()).isEqualTo("request_too_large");
        }
    }

    @Test
    void anUpstreamThatNeverAnswersIs504AfterTheResponseTimeout() throws Exception {
        try (Stack slow = new Stack(CONFIG.replace("\"version\": 2,", "\"version\": 2, \"server\": {\"upstream_response_timeout_s\": 0.3},"),
                null, "tts", "llm", "llm-cpu", "whisper")) {
            HttpResponse<String> r = slow.http.send(slow.request("/v1/audio/transcriptions?model=whisper")
                    .header("Content-Type", "application/json").header("X-Test-Hang", "1")
                    .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(504);
            assertThat(error(r).get("code").asText()).isEqualTo("upstream_timeout");
            assertThat(slow.manager.awaitCondition(vs -> vs.stream().allMatch(v -> v.inflight() == 0), Duration.ofSeconds(10)))
                    .as("the lease is released").isTrue();
        }
    }

    @Test
    void hundredConcurrentHttpRequestsToAStoppedModelCauseOneDockerStartAndAreAllServed() throws Exception {
        java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
        stack.runtime.gateStart("llm", start); // docker start blocks until every request is waiting
        HttpClient many = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .executor(java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()).build();
        java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> fs = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            fs.add(many.sendAsync(stack.request("/v1/embeddings").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"llm\",\"input\":\"" + i + "\"}")).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        assertThat(stack.manager.awaitCondition(vs -> vs.stream().anyMatch(v -> v.spec().id().equals("llm") && v.waiting() == 100),
                Duration.ofSeconds(20))).as("all 100 wait for the one start").isTrue();
        start.countDown();
        for (var f : fs) assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        assertThat(stack.runtime.count("start", "llm")).isEqualTo(1);
        assertThat(stack.upstream("llm").count("/v1/embeddings")).isEqualTo(100);
    }

    @Test
    void upstreamPassthroughReachesTheModelsOwnServerAndStartsItOnDemand() throws Exception {
        HttpResponse<String> r = stack.get("/upstream/whisper-1/v1/audio/voices?lang=en");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("X-Served-By")).hasValue("whisper");
        assertThat(r.body()).contains("\"path\":\"/v1/audio/voices\"");
        FakeUpstream.Seen seen = stack.upstream("whisper").seen.get(0);
        assertThat(seen.method()).isEqualTo("GET");
        assertThat(seen.path()).isEqualTo("/v1/audio/voices?lang=en");
        assertThat(stack.runtime.count("start", "whisper")).isEqualTo(1);

        HttpResponse<String> put = stack.http.send(stack.request("/upstream/whisper/admin/reload")
                .PUT(HttpRequest.BodyPublishers.ofString("xyz")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.body()).contains("\"bytes\":3");
        assertThat(stack.upstream("whisper").seen.get(1).method()).isEqualTo("PUT");

        HttpResponse<String> missing = stack.get("/upstream/nope/x");
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(error(missing).get("code").asText()).isEqualTo("model_not_found");
        stack.post("/gaming-mode?enable=true", null);
        assertThat(stack.get("/upstream/whisper/health").statusCode()).isEqualTo(503);
    }
}
