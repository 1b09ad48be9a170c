package dev.localai.tts.core.runtime;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A reference count for native memory shared between threads: it starts at one (the creator's reference),
 * {@link #acquire} adds one unless the count already reached zero, and the {@link #release} that brings it to zero runs
 * the free action, exactly once.
 */
public final class RefCount {
    private final AtomicInteger refs = new AtomicInteger(1);
    private final Runnable free;

    /** @param free what the last {@link #release} runs */
    public RefCount(Runnable free) {
        this.free = free;
    }

    /** Takes a reference; false when the count had already reached zero (the memory is gone). */
    public boolean acquire() {
        while (true) {
            int n = refs.get();
            if (n <= 0) {
                return false;
            }
            if (refs.compareAndSet(n, n + 1)) {
                return true;
            }
        }
    }

    /** Drops a reference; the last one runs the free action. */
    public void release() {
        if (refs.decrementAndGet() == 0) {
            free.run();
        }
    }
}
