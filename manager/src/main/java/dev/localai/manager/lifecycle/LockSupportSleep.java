package dev.localai.manager.lifecycle;

import java.util.concurrent.locks.LockSupport;

/** A timer wait (poll interval, deadline) that is not a synchronisation device. */
final class LockSupportSleep {
    private LockSupportSleep() {}

    static void sleepNanos(long nanos) {
        long deadline = System.nanoTime() + nanos;
        long left;
        while ((left = deadline - System.nanoTime()) > 0) {
            LockSupport.parkNanos(left);
            if (Thread.currentThread().isInterrupted()) return;
        }
    }
}
