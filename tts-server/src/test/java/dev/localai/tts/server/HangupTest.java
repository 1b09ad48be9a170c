package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.engine.EngineFactory;
import dev.localai.tts.server.http.Hangups;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A client that closes its connection while the server writes nothing to it (between a stream's blocks, while a whole
 * file is made) has its generation cancelled at once ({@link Hangups}), not at the next write or at the end of the
 * text. The engine is held by a gate after its first chunk, so no write would ever tell: only the socket table can.
 */
class HangupTest {
    private static TtsServer server;
    private static final AtomicReference<GatedSynthesizer> gated = new AtomicReference<>();

    private final LogCapture log = new LogCapture();

    @BeforeAll
    static void start() throws InterruptedException {
        try (Hangups probe = new Hangups(Duration.ofSeconds(1))) {
            assumeTrue(probe.available(), "no socket table here (not Linux): a write finds the client gone");
        }
        var config = TestServers.config().wyomingEnabled(true).wyomingPort(0).build();
        Supplier<SpeechSynthesizer> real = EngineFactory.chatterbox(config.engine());
        server = TtsServer.start(config, () -> {
            gated.set(new GatedSynthesizer(real.get()));
            return gated.get();
        }, "tiny (gated by the test)");
        assertThat(server.engines().awaitLoaded(Duration.ofMinutes(2))).isTrue();
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            gated.get().open();
            server.shutdown();
        }
    }

    @BeforeEach
    void listen() {
        log.start();
    }

    @AfterEach
    void release() {
        log.stop();
        gated.get().open();
    }

    @Test
    void aStreamIsCancelledWhenItsClientHangsUpBetweenBlocks() throws Exception {
        for (boolean reset : new boolean[] {false, true}) {
            Http http = new Http(server);
            long before = disconnects(http);
            gated.get().arm(); // the first chunk goes out, then the engine holds: no write will come
            RawHttp raw = post("{\"model\":\"tts-1\",\"voice\":\"alloy\",\"response_format\":\"pcm\","
                    + "\"input\":\"A sentence the client will not wait for.\"}");
            try {
                assertThat(raw.head()).startsWith("HTTP/1.1 200");
                assertThat(raw.read()).as("the first audio byte").isNotNegative();
            } finally {
                if (reset) {
                    raw.abort();
                } else {
                    raw.close();
                }
            }
            assertThat(gated.get().awaitClosed(Duration.ofSeconds(10)))
                    .as("the generation was cancelled while the engine still held its next block (reset=%s)", reset)
                    .isTrue();
            gated.get().open();
            awaitDisconnects(http, before + 1);
        }
        assertQuietLog();
    }

    @Test
    void aStreamIsCancelledWhenItsClientHangsUpBeforeItsFirstAudio() throws Exception {
        Http http = new Http(server);
        long before = disconnects(http);
        long syntheses = syntheses(http);
        gated.get().arm(0); // the engine holds before its first chunk: the response has not even begun
        hangUpOnceItRuns("{\"model\":\"tts-1\",\"voice\":\"alloy\",\"response_format\":\"mp3\","
                + "\"stream_format\":\"sse\",\"input\":\"A sentence the client will not wait for.\"}",
                "the generation was cancelled before its first audio");
        gated.get().open();
        awaitDisconnects(http, before + 1);
        awaitActive(0, "its slot is free");
        Thread.sleep(300); // what the server does after the cancellation (it must not count another disconnect)
        assertThat(disconnects(http)).as("counted once").isEqualTo(before + 1);
        assertThat(syntheses(http)).as("nothing counted as made").isEqualTo(syntheses);
        assertQuietLog();
    }

    @Test
    void aWholeFileIsCancelledWhenItsClientHangsUp() throws Exception {
        Http http = new Http(server);
        long before = disconnects(http);
        long syntheses = syntheses(http);
        gated.get().arm(); // the synthesis holds after its first chunk: the file is never ready
        hangUpOnceItRuns("{\"model\":\"tts-1\",\"voice\":\"alloy\",\"response_format\":\"wav\","
                + "\"stream\":false,\"input\":\"A long file the client gives up on.\"}",
                "the synthesis was cancelled long before its file could be ready");
        awaitDisconnects(http, before + 1);
        assertThat(syntheses(http)).as("nothing counted as made").isEqualTo(syntheses);
        awaitActive(0, "its slot is free");
        assertThat(http.get("/health").statusCode()).isEqualTo(200);
        assertQuietLog();
    }

    /**
     * Posts {@code body}, hangs up (a plain close) once its synthesis runs, and checks that the held generation is
     * cancelled ({@code why}).
     */
    private void hangUpOnceItRuns(String body, String why) throws Exception {
        try (RawHttp raw = post(body)) {
            awaitActive(1, "the synthesis runs");
        }
        assertThat(gated.get().awaitClosed(Duration.ofSeconds(10))).as(why).isTrue();
    }

    @Test
    void aWyomingSynthesisIsCancelledWhenItsClientHangsUp() throws Exception {
        Http http = new Http(server);
        long syntheses = syntheses(http);
        gated.get().arm(); // the first chunk goes out, then the engine holds: no write will come
        try (WyomingClient c = new WyomingClient(server.wyomingPort().orElseThrow())) {
            c.synthesize("A sentence Home Assistant stops listening to.", null);
            assertThat(c.read().type()).isEqualTo("audio-start");
            assertThat(c.read().type()).isEqualTo("audio-chunk");
        }
        assertThat(gated.get().awaitClosed(Duration.ofSeconds(10)))
                .as("the synthesis was cancelled while the engine still held its next block").isTrue();
        gated.get().open();
        awaitActive(0, "its slot is free");
        assertThat(syntheses(http)).as("nothing counted as made").isEqualTo(syntheses);
        assertQuietLog();
    }

    /** A speech request on a raw connection, which the test closes as a client that leaves would. */
    private static RawHttp post(String json) {
        return new RawHttp(server.port()).post("/v1/audio/speech", json);
    }

    private void assertQuietLog() {
        log.assertQuiet("a client that left");
    }

    /** Polls until {@code done} holds or 30 s pass; the caller asserts what it waited for. */
    private static void await(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    /** Waits until the engine runs {@code n} requests (at most 30 s) and asserts that it does. */
    private static void awaitActive(int n, String what) throws InterruptedException {
        await(() -> active() == n);
        assertThat(active()).as(what).isEqualTo(n);
    }

    private static int active() {
        return server.engines().status().engine().activeRequests();
    }

    private static void awaitDisconnects(Http http, long atLeast) throws InterruptedException {
        await(() -> disconnects(http) >= atLeast);
        assertThat(disconnects(http)).as("counted as a disconnect").isGreaterThanOrEqualTo(atLeast);
    }

    private static long disconnects(Http http) {
        return SseDisconnectTest.disconnects(http);
    }

    private static long syntheses(Http http) {
        Matcher m = Pattern.compile("tts_audio_seconds_total(?:\\{[^}]*\\})? ([0-9.eE+-]+)")
                .matcher(new String(http.get("/metrics").body(), StandardCharsets.UTF_8));
        double sum = 0;
        while (m.find()) {
            sum += Double.parseDouble(m.group(1));
        }
        return Math.round(sum * 1000);
    }
}
