package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 16: a client that leaves an SSE speech stream (a closed playground tab) is ordinary. The generation is
 * cancelled and counted as a disconnect, and the log says nothing above FINE: no WARNING, no stack trace.
 */
class SseDisconnectTest {
    static final String LONG_SSE = "{\"model\":\"tts-1\",\"voice\":\"alloy\",\"response_format\":\"pcm\","
            + "\"stream_format\":\"sse\",\"speed\":0.25,\"input\":\""
            + "This sentence is one of many in a long text. ".repeat(40).trim() + "\"}";

    private final LogCapture log = new LogCapture();
    private TtsServer server;

    @BeforeEach
    void start() {
        server = TestServers.shared(); // started before the capture: Helidon sets up JUL as it starts
        log.start();
    }

    @AfterEach
    void release() {
        log.stop();
    }

    @Test
    void aClientThatClosesItsSseStreamIsCancelledQuietly() throws Exception {
        Http http = new Http(server);
        for (boolean reset : new boolean[] {false, true}) {
            long before = disconnects(http);
            try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), server.port())) {
                socket.setSoTimeout(60_000);
                byte[] body = LONG_SSE.getBytes(StandardCharsets.UTF_8);
                socket.getOutputStream().write(("POST /v1/audio/speech HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().write(body);
                socket.getOutputStream().flush();
                String got = readUntil(socket.getInputStream(), "data: {");
                assertThat(got).startsWith("HTTP/1.1 200").contains("text/event-stream");
                if (reset) {
                    socket.setSoLinger(true, 0);
                }
            }
            // the server learns of the departure at its next write, cancels the generation, then counts it
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (disconnects(http) == before && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(disconnects(http)).as("counted as a disconnect (reset=%s)", reset).isGreaterThan(before);
            awaitIdleEngine();
        }
        assertThat(http.get("/health").statusCode()).isEqualTo(200);
        log.assertQuiet("a client that left");
    }

    private static String readUntil(InputStream in, String marker) throws IOException {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[1024];
        while (!got.toString(StandardCharsets.UTF_8).contains(marker)) {
            int n = in.read(buf);
            if (n < 0) {
                throw new IOException("the stream ended before '" + marker + "': " + got);
            }
            got.write(buf, 0, n);
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    static long disconnects(Http http) {
        Matcher m = Pattern.compile("tts_client_disconnects_total (\\d+)")
                .matcher(new String(http.get("/metrics").body(), StandardCharsets.UTF_8));
        assertThat(m.find()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** Polls until the engine has no running synthesis (the cancellation reached the worker). */
    private void awaitIdleEngine() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (server.engines().status().engine().activeRequests() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(server.engines().status().engine().activeRequests()).isZero();
    }
}
