package dev.localai.tts.server.speech;

import dev.localai.tts.core.engine.api.SpeechStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Frees the synthesis slot of a client that stops reading without disconnecting: when one write to a client has
 * been blocked longer than the stall timeout, its generation is cancelled (the engine moves on) and the response is
 * abandoned. Without this, a few stalled clients could hold every slot forever.
 */
public final class StallGuard implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(StallGuard.class.getName());

    private final long timeoutNanos;
    private final Map<ClientStream, SpeechStream> watched = new ConcurrentHashMap<>();
    private final ScheduledExecutorService timer;

    /** @param timeout how long one write may block */
    public StallGuard(Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "tts-stall-guard");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(50, Math.min(1000, timeout.toMillis() / 4));
        timer.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    /** Watches a response while it streams. */
    void watch(ClientStream client, SpeechStream stream) {
        watched.put(client, stream);
    }

    /** Stops watching (the response ended). */
    void release(ClientStream client) {
        watched.remove(client);
    }

    private void sweep() {
        long now = System.nanoTime();
        watched.forEach((client, stream) -> {
            long since = client.blockedSince();
            if (since != 0 && now - since > timeoutNanos) {
                LOG.warning("a client stopped reading for more than " + Duration.ofNanos(timeoutNanos).toSeconds()
                        + " s; its generation is cancelled");
                client.markStalled();
                stream.close();
                watched.remove(client);
            }
        });
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
