package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiErrors;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Graceful shutdown: once draining, new work is refused with 503 while requests already in flight finish;
 * {@link #awaitIdle} waits for them.
 */
public final class Lifecycle {
    private final AtomicBoolean draining = new AtomicBoolean();
    private final AtomicLong inFlight;

    /** @param inFlight the in-flight request gauge kept by {@link ApiFilter} */
    public Lifecycle(AtomicLong inFlight) {
        this.inFlight = inFlight;
    }

    /** Stops accepting new work. */
    public void drain() {
        draining.set(true);
    }

    /** Whether the server is shutting down. */
    public boolean draining() {
        return draining.get();
    }

    /** Throws 503 {@code shutting_down} once draining. */
    public void requireAccepting() {
        if (draining.get()) {
            throw ApiErrors.unavailable("shutting_down", "The server is shutting down; retry on another instance.", 5);
        }
    }

    /**
     * Waits until at most {@code allowance} requests are in flight (the caller's own, if it is one) or the timeout
     * passes. Returns whether it became idle.
     */
    public boolean awaitIdle(Duration timeout, int allowance) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > allowance) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(20);
        }
        return true;
    }

    /** Requests in flight now. */
    public long inFlight() {
        return inFlight.get();
    }
}
