package dev.localai.manager.lifecycle;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/** A request granted on a READY model; counted in flight from the grant until {@link #close()}. */
final class GrantedLease implements Lease {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");

    private final Slot slot;
    private final Consumer<GrantedLease> release;
    private final List<Runnable> cancels = new CopyOnWriteArrayList<>();
    private volatile boolean cancelled;

    GrantedLease(Slot slot, Consumer<GrantedLease> release) {
        this.slot = slot;
        this.release = release;
    }

    Slot slot() {
        return slot;
    }

    @Override
    public String model() {
        return slot.spec.id();
    }

    @Override
    public void onCancel(Runnable cancel) {
        cancels.add(cancel);
        if (cancelled) cancel.run(); // cancelled before the request registered how to abort (idempotent aborts)
    }

    /** The model must stop under this request (drain deadline, crash): abort it. */
    void cancel() {
        cancelled = true;
        for (Runnable r : cancels) {
            try {
                r.run();
            } catch (RuntimeException e) {
                LOG.log(Level.FINE, "cancel failed", e);
            }
        }
    }

    /** Idempotent: the first close releases the in-flight slot. */
    @Override
    public void close() {
        release.accept(this);
    }
}
