package dev.localai.manager.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.Stack;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 16: a browser tab that closes while subscribed to {@code /api/events} is ordinary, not a fault. The manager
 * notices at its next write, releases the subscription and logs nothing above FINE (no WARNING, no stack trace).
 */
class EventsDisconnectTest {
    static final String CONFIG = """
        {"version": 2,
         "gpu": {"probe": "none"},
         "models": {
           "tts": {"container": "tts", "port": PORT(tts), "type": "tts", "keep_warm": true}
         }}
        """;

    @TempDir
    Path tmp;

    /** The routes' logger; kept here so its FINE level is not lost to garbage collection during the test. */
    private static final Logger API_LOG = Logger.getLogger("dev.localai.manager.api");
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord r) {
            records.add(r);
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
    };

    /** Installed once the server runs: Helidon configures JUL as it starts, which would drop an earlier handler. */
    private void captureLog() {
        capture.setLevel(Level.ALL);
        Logger.getLogger("").addHandler(capture);
        API_LOG.setLevel(Level.FINE);
    }

    @AfterEach
    void releaseLog() {
        Logger.getLogger("").removeHandler(capture);
        API_LOG.setLevel(null);
    }

    @Test
    void aSubscriberThatClosesItsSocketIsReleasedQuietly() throws Exception {
        try (Stack s = new Stack(CONFIG, tmp.resolve("state.json"), "tts")) {
            s.await("tts", ModelState.READY);
            captureLog();
            for (int round = 0; round < 3; round++) {
                subscribeThenLeave(s, round % 2 == 0);
                // the handler learns of the departure when a write fails: publish until it has let go
                boolean released = false;
                for (int i = 0; i < 2_000 && !released; i++) {
                    s.manager.events().publish("test", null, "i", i);
                    released = s.manager.awaitCondition(v -> s.manager.events().subscriberCount() == 0,
                            Duration.ofMillis(5));
                }
                assertThat(released).as("the subscription of round %d was released", round).isTrue();
            }
            // the server still answers, and the same route works for a subscriber that stays
            assertThat(s.get("/healthz").statusCode()).isEqualTo(200);
        }
        assertThat(records).as("the capture works: the server's stop is logged")
                .anyMatch(r -> r.getLoggerName().startsWith("io.helidon.webserver"));
        assertThat(records).as("nothing above FINE about a client that left")
                .filteredOn(r -> r.getLevel().intValue() > Level.INFO.intValue())
                .extracting(r -> r.getLoggerName() + ": " + r.getMessage())
                .isEmpty();
        assertThat(records).as("no stack trace at any level above FINE")
                .filteredOn(r -> r.getThrown() != null && r.getLevel().intValue() > Level.FINE.intValue())
                .isEmpty();
        assertThat(records).as("one FINE line per departure, without a trace")
                .filteredOn(r -> r.getMessage().startsWith("events client left"))
                .hasSize(3)
                .allMatch(r -> r.getLevel() == Level.FINE && r.getThrown() == null);
    }

    /** Raw loopback client: subscribes, reads the snapshot, then closes (plainly, or with a reset). */
    private static void subscribeThenLeave(Stack s, boolean reset) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), s.server.port())) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream got = new ByteArrayOutputStream();
            byte[] buf = new byte[4096];
            while (!got.toString(StandardCharsets.UTF_8).contains("event: mode")) {
                int n = in.read(buf);
                if (n < 0) throw new IOException("the stream ended before the snapshot: " + got);
                got.write(buf, 0, n);
            }
            assertThat(got.toString(StandardCharsets.UTF_8)).startsWith("HTTP/1.1 200").contains("text/event-stream");
            if (reset) socket.setSoLinger(true, 0);
        }
    }
}
