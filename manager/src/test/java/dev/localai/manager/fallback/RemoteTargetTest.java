package dev.localai.manager.fallback;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.localai.manager.config.ManagerConfig;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The circuit breaker of a remote fallback target, on a hand-moved clock, and its active probe. */
class RemoteTargetTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    private RemoteTarget target(int threshold, URI url) {
        return new RemoteTarget(new ManagerConfig.Remote("cpu", url, "/health", Duration.ofSeconds(10), threshold), now::get);
    }

    private void advanceMillis(long ms) {
        now.addAndGet(ms * 1_000_000L);
    }

    @Test
    void opensAfterConsecutiveFailuresLetsOneProbeThroughAfterTheCoolDownAndClosesOnSuccess() {
        RemoteTarget t = target(2, URI.create("http://127.0.0.1:1"));
        assertThat(t.tryAcquire()).isTrue();
        t.failure();
        assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.CLOSED);
        t.success(); // a success in between resets the count
        t.failure();
        assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.CLOSED);
        t.failure();
        assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.OPEN);
        assertThat(t.tryAcquire()).isFalse();

        advanceMillis(5_000);
        assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.HALF_OPEN);
        assertThat(t.tryAcquire()).as("one trial request").isTrue();
        assertThat(t.tryAcquire()).as("only one").isFalse();
        t.failure(); // trial failed: open again, longer
        assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.OPEN);
        advanceMillis(5_000);
        assertThat(t.tryAcquire()).as("cool-down doubled to 10 s").isFalse();
        advanceMillis(5_000);
        assertThat(t.tryAcquire()).isTrue();
        t.success();
        assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.CLOSED);
        assertThat(t.tryAcquire()).isTrue();
        assertThat(t.tryAcquire()).isTrue();
    }

    @Test
    void theActiveProbeFeedsTheBreaker() throws Exception {
        AtomicInteger status = new AtomicInteger(200);
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        s.createContext("/health", ex -> {
            ex.sendResponseHeaders(status.get(), -1);
            ex.close();
        });
        s.start();
        try {
            RemoteTarget t = target(1, URI.create("http://127.0.0.1:" + s.getAddress().getPort()));
            HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
            t.probe(client);
            assertThat(t.lastProbeHealthy()).isTrue();
            status.set(503);
            t.probe(client);
            assertThat(t.lastProbeHealthy()).isFalse();
            assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.OPEN);
            status.set(200);
            advanceMillis(5_000);
            t.probe(client);
            assertThat(t.state()).isEqualTo(RemoteTarget.BreakerState.CLOSED);
        } finally {
            s.stop(0);
        }
    }
}
