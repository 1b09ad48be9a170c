package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.engine.EngineFactory;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Start-up while the model loads, a model that cannot be had, and graceful shutdown. */
class LifecycleTest {

    @Test
    void whileLoadingLivenessIsUpReadinessAndSpeechAre503AndBadInputStays400() throws Exception {
        var config = TestServers.config().build();
        CountDownLatch release = new CountDownLatch(1);
        Supplier<SpeechSynthesizer> real = EngineFactory.chatterbox(config.engine());
        TtsServer server = TtsServer.start(config, () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return real.get();
        }, "tiny (held back by the test)");
        try {
            Http http = new Http(server);
            assertThat(http.get("/health").statusCode()).isEqualTo(200);
            HttpResponse<byte[]> ready = http.get("/health/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            assertThat(ready.headers().firstValue("retry-after")).isPresent();
            assertThat(Http.json(ready).get("state").asText()).isEqualTo("loading");
            HttpResponse<byte[]> speech = http.speech("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\"}");
            JsonNode e = Http.error(speech, 503);
            assertThat(e.get("code").asText()).isEqualTo("model_not_ready");
            assertThat(speech.headers().firstValue("retry-after")).isPresent();
            Http.error(http.speech("{\"model\":\"tts-1\",\"input\":\"\",\"voice\":\"alloy\"}"), 400);
            Http.error(http.get("/v1/audio/voices"), 503);
            assertThat(http.get("/v1/models").statusCode()).isEqualTo(200);

            release.countDown();
            assertThat(server.engines().awaitLoaded(Duration.ofMinutes(2))).isTrue();
            assertThat(http.get("/health/ready").statusCode()).isEqualTo(200);
            assertThat(http.speech("{\"model\":\"tts-1\",\"input\":\"Loaded.\",\"voice\":\"alloy\"}").statusCode())
                    .isEqualTo(200);
        } finally {
            release.countDown();
            server.shutdown();
        }
    }

    @Test
    void aModelThatCannotBeHadStillStartsAndSaysWhy() throws Exception {
        TtsServer server = TtsServer.start(TestServers.config().model("nobody-here/no-such-model")
                .allowDownload(false).build());
        try {
            assertThat(server.engines().awaitLoaded(Duration.ofMinutes(1))).isTrue();
            Http http = new Http(server);
            assertThat(http.get("/health").statusCode()).isEqualTo(200);
            HttpResponse<byte[]> ready = http.get("/health/ready");
            assertThat(ready.statusCode()).isEqualTo(503);
            JsonNode r = Http.json(ready);
            assertThat(r.get("state").asText()).isEqualTo("failed");
            assertThat(r.get("detail").asText()).contains("nobody-here/no-such-model");
            HttpResponse<byte[]> failed = http.speech("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\"}");
            JsonNode e = Http.error(failed, 503);
            assertThat(e.get("code").asText()).isEqualTo("model_unavailable");
            assertThat(failed.headers().firstValue("x-should-retry")).hasValue("false");
            assertThat(e.get("message").asText()).contains("nobody-here/no-such-model");
        } finally {
            server.shutdown();
        }
    }

    @Test
    void aLocalModelDirectorysPathStaysInTheServersOwnWords(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        java.nio.file.Path dir = java.nio.file.Files.createDirectories(tmp.resolve("secret-models/turbo"));
        TtsServer server = TtsServer.start(TestServers.config().model(dir.toString()).allowDownload(false).build());
        try {
            assertThat(server.engines().awaitLoaded(Duration.ofMinutes(1))).isTrue();
            Http http = new Http(server);
            HttpResponse<byte[]> failed = http.speech("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\"}");
            JsonNode e = Http.error(failed, 503);
            assertThat(e.get("code").asText()).isEqualTo("model_unavailable");
            assertThat(e.get("message").asText()).contains("the model directory").doesNotContain("secret-models")
                    .doesNotContain(tmp.toString());
        } finally {
            server.shutdown();
        }
        // and while it loads
        CountDownLatch release = new CountDownLatch(1);
        TtsServer loading = TtsServer.start(TestServers.config().build(), () -> {
            try {
                release.await();
            } catch (InterruptedException x) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("not loaded in this test");
        }, dir.toString());
        try {
            JsonNode e = Http.error(new Http(loading).speech(
                    "{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\"}"), 503);
            assertThat(e.get("code").asText()).isEqualTo("model_not_ready");
            assertThat(e.get("message").asText()).isEqualTo(
                    "The model is still loading (loading the model directory); retry shortly.");
        } finally {
            release.countDown();
            loading.shutdown();
        }
    }

    @Test
    void shutdownRefusesNewWorkButFinishesTheRequestInFlight() throws Exception {
        var config = TestServers.config().build();
        Supplier<SpeechSynthesizer> real = EngineFactory.chatterbox(config.engine());
        AtomicReference<GatedSynthesizer> gated = new AtomicReference<>();
        TtsServer server = TtsServer.start(config, () -> {
            gated.set(new GatedSynthesizer(real.get()));
            return gated.get();
        }, "tiny (gated by the test)");
        assertThat(server.engines().awaitLoaded(Duration.ofMinutes(2))).isTrue();
        Http http = new Http(server);
        String body = "{\"model\":\"tts-1\",\"input\":\"" + "A sentence to finish before stopping. ".repeat(4).trim()
                + "\",\"voice\":\"alloy\",\"seed\":5,\"response_format\":\"pcm\",\"max_tokens\":40}";
        byte[] reference = http.speech(body).body();
        assertThat(reference.length).isGreaterThan(10_000);

        gated.get().arm(); // the next stream delivers its first chunk, then waits for the test
        HttpResponse<InputStream> inFlight = Http.CLIENT.send(http.request("/v1/audio/speech")
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofInputStream());
        InputStream in = inFlight.body();
        byte[] head = in.readNBytes(1); // the first chunk is out (flushed before the gate holds the rest)
        CompletableFuture<Void> stopping = CompletableFuture.runAsync(server::shutdown);
        HttpResponse<byte[]> ready;
        do {
            ready = http.get("/health/ready");
        } while (ready.statusCode() == 200);
        assertThat(Http.json(ready).get("status").asText()).isEqualTo("draining");
        JsonNode e = Http.error(http.speech("{\"model\":\"tts-1\",\"input\":\"Late.\",\"voice\":\"alloy\"}"), 503);
        assertThat(e.get("code").asText()).isEqualTo("shutting_down");
        assertThat(stopping).isNotDone();

        gated.get().open();
        byte[] rest = in.readAllBytes();
        byte[] all = new byte[head.length + rest.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(rest, 0, all, head.length, rest.length);
        assertThat(all).isEqualTo(reference);
        stopping.get();
        assertThat(server.engines().engineOrNull()).isNull();
    }

    @Test
    void theEngineFactoryBuildsTheChatterboxEngine() {
        SpeechSynthesizer s = EngineFactory.chatterbox(TestServers.config().warmUp(false).build().engine()).get();
        try {
            assertThat(s).isInstanceOf(TtsEngine.class);
            assertThat(s.health().ready()).isTrue();
            assertThat(s.voices()).extracting(v -> v.id()).contains("default");
        } finally {
            s.close();
        }
    }
}
