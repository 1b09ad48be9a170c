package dev.localai.manager.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;

/** A clock the test moves by hand (idle timeouts, backoff, liveness intervals). */
public final class ManualClock implements java.time.InstantSource {
    private final AtomicLong millis = new AtomicLong(1_000_000_000L);

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    public void advance(Duration d) {
        millis.addAndGet(d.toMillis());
    }
}
