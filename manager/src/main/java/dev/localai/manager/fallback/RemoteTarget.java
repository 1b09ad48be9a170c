package dev.localai.manager.fallback;

import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.lifecycle.HttpHealthProbe;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.logging.Logger;

/**
 * A remote fallback target (another host, a CPU instance elsewhere) behind a circuit breaker.
 * Opens after {@code failure_threshold} consecutive failures; after a cool-down (5 s doubling to 60 s) one
 * probe or request is let through (half-open); a success closes it. An active health probe runs every
 * {@code probe_interval_s}.
 */
public final class RemoteTarget {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager.fallback");

    public enum BreakerState { CLOSED, OPEN, HALF_OPEN }

    private final ManagerConfig.Remote remote;
    private BreakerState state = BreakerState.CLOSED;
    private int consecutiveFailures;
    private int opens;
    private long openUntilNanos;
    private boolean halfOpenInFlight;
    private Boolean lastProbeHealthy;

    private final LongSupplier nanoTime;

    public RemoteTarget(ManagerConfig.Remote remote) {
        this(remote, System::nanoTime);
    }

    /** With a clock in nanoseconds (tests move it by hand). */
    public RemoteTarget(ManagerConfig.Remote remote, LongSupplier nanoTime) {
        this.remote = remote;
        this.nanoTime = nanoTime;
    }

    public ManagerConfig.Remote remote() {
        return remote;
    }

    /** Whether a request may be sent now (a half-open breaker admits exactly one). */
    public synchronized boolean tryAcquire() {
        if (state == BreakerState.OPEN) {
            if (nanoTime.getAsLong() < openUntilNanos) return false;
            state = BreakerState.HALF_OPEN;
            halfOpenInFlight = false;
        }
        if (state == BreakerState.HALF_OPEN) {
            if (halfOpenInFlight) return false;
            halfOpenInFlight = true;
        }
        return true;
    }

    public synchronized void success() {
        if (state != BreakerState.CLOSED) LOG.info("fallback " + remote.name() + ": circuit closed");
        state = BreakerState.CLOSED;
        consecutiveFailures = 0;
        opens = 0;
        halfOpenInFlight = false;
    }

    public synchronized void failure() {
        consecutiveFailures++;
        halfOpenInFlight = false;
        if (state == BreakerState.HALF_OPEN || consecutiveFailures >= remote.failureThreshold()) {
            opens++;
            long cool = Math.min(60_000L, 5_000L << Math.min(4, opens - 1));
            openUntilNanos = nanoTime.getAsLong() + cool * 1_000_000L;
            if (state != BreakerState.OPEN) LOG.warning("fallback " + remote.name() + ": circuit open for " + cool + " ms");
            state = BreakerState.OPEN;
        }
    }

    public synchronized BreakerState state() {
        if (state == BreakerState.OPEN && nanoTime.getAsLong() >= openUntilNanos) return BreakerState.HALF_OPEN;
        return state;
    }

    public synchronized Boolean lastProbeHealthy() {
        return lastProbeHealthy;
    }

    /** One active health probe; updates the breaker. */
    public void probe(HttpClient client) {
        boolean ok = HttpHealthProbe.check(client, java.net.URI.create(remote.url() + remote.healthPath()), 200, Duration.ofSeconds(5));
        synchronized (this) {
            lastProbeHealthy = ok;
        }
        if (ok) success();
        else failure();
    }
}
