package dev.localai.manager.lifecycle;

/**
 * A granted request on a READY model: counts as in flight until closed (the idle timer starts at close).
 * {@link #onCancel} registers how to abort the request if the model must stop (drain deadline, crash).
 */
public interface Lease extends AutoCloseable {
    String model();

    void onCancel(Runnable cancel);

    @Override
    void close();
}
