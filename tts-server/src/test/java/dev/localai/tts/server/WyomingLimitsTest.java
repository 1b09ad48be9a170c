package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.WyomingClient.Event;
import dev.localai.tts.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The Wyoming endpoint's limits and lifecycle, on servers whose model never finishes loading (none of this needs
 * audio): the answers while loading, the connection bound, the idle timeout, a busy port, and shutdown.
 */
class WyomingLimitsTest {

    /** A server whose engine stays loading until the test ends. */
    private static TtsServer heldServer(ServerConfig config, CountDownLatch release) {
        Supplier<SpeechSynthesizer> held = () -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("released by the test");
        };
        return TtsServer.start(config, held, "held by the test");
    }

    @Test
    void whileTheModelLoadsDescribeListsTheBuiltInVoiceAndSynthesizeSaysWhy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TtsServer server = heldServer(TestServers.config().wyomingEnabled(true).wyomingPort(0).build(), release);
        try (WyomingClient c = new WyomingClient(server.wyomingPort().orElseThrow())) {
            c.describe();
            Event info = c.expect();
            JsonNode voices = info.data().get("tts").get(0).get("voices");
            assertThat(voices).hasSize(1);
            assertThat(voices.get(0).get("name").asText()).isEqualTo("default");
            c.synthesize("Too early.", null);
            Event e = WyomingTest.assertError(c, "model_not_ready");
            assertThat(e.data().get("text").asText()).contains("loading");
        } finally {
            release.countDown();
            server.shutdown();
        }
    }

    @Test
    void connectionsBeyondTheLimitGetAnErrorAndAreClosed() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TtsServer server = heldServer(TestServers.config().wyomingEnabled(true).wyomingPort(0)
                .wyomingMaxConnections(1).build(), release);
        int port = server.wyomingPort().orElseThrow();
        try (WyomingClient first = new WyomingClient(port)) {
            first.describe();
            assertThat(first.expect().type()).isEqualTo("info"); // the first holds the only place
            try (WyomingClient second = new WyomingClient(port)) {
                second.describe();
                WyomingTest.assertError(second, "too_many_connections");
            }
            first.describe();
            assertThat(first.expect().type()).isEqualTo("info");
        } finally {
            release.countDown();
            server.shutdown();
        }
    }

    @Test
    void aClientThatSendsNothingIsToldAndClosedAfterTheIdleTimeout() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TtsServer server = heldServer(TestServers.config().wyomingEnabled(true).wyomingPort(0)
                .wyomingIdleTimeout(Duration.ofSeconds(1)).build(), release);
        try (WyomingClient c = new WyomingClient(server.wyomingPort().orElseThrow())) {
            WyomingTest.assertError(c, "timeout");
        } finally {
            release.countDown();
            server.shutdown();
        }
    }

    @Test
    void aBusyWyomingPortFailsTheStartNamingThePortAndLeavesNothingListening() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int busy = taken.getLocalPort();
            ServerConfig config = TestServers.config().wyomingEnabled(true).wyomingPort(busy).build();
            assertThatThrownBy(() -> TtsServer.start(config, () -> {
                throw new IllegalStateException("never loaded");
            }, "never")).isInstanceOf(UncheckedIOException.class).hasMessageContaining(":" + busy);
        }
    }

    @Test
    void shutdownStopsListening() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TtsServer server = heldServer(TestServers.config().wyomingEnabled(true).wyomingPort(0).build(), release);
        int port = server.wyomingPort().orElseThrow();
        release.countDown();
        server.shutdown();
        // nothing listens: the connection is refused, or the kernel, having picked the freed port as the client's own
        // source port, connects the socket to itself (TCP's simultaneous open on loopback); a listener would show
        // another local port
        try (Socket s = new Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", port));
            assertThat(s.getLocalPort()).as("something accepted a connection on %d after shutdown", port)
                    .isEqualTo(port);
        } catch (ConnectException refused) {
            assertThat(refused).hasMessageContaining("refused");
        }
    }

    @Test
    void offByDefault() throws IOException {
        CountDownLatch release = new CountDownLatch(1);
        TtsServer server = heldServer(TestServers.config().build(), release);
        try {
            assertThat(server.wyomingPort()).isEmpty();
        } finally {
            release.countDown();
            server.shutdown();
        }
    }
}
