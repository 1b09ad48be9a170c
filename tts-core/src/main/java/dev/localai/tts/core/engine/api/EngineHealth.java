package dev.localai.tts.core.engine.api;

/**
 * A snapshot of the engine's state for readiness probes and metrics.
 *
 * @param state             lifecycle state
 * @param detail            human-readable detail (why not ready, what is loading)
 * @param activeRequests    generations running now
 * @param queuedRequests    requests waiting for a slot
 * @param deviceMemoryUsed  bytes of device memory in use (GPU VRAM, or resident native memory on CPU); -1 if unknown
 * @param deviceMemoryTotal bytes of device memory in total; -1 if unknown
 */
public record EngineHealth(State state, String detail, int activeRequests, int queuedRequests,
                           long deviceMemoryUsed, long deviceMemoryTotal) {

    /** Lifecycle of an engine. */
    public enum State {
        /** Loading weights. */
        LOADING,
        /** Loaded, running the warm-up synthesis. */
        WARMING,
        /** Serving. */
        READY,
        /** Could not load; {@link EngineHealth#detail()} says why. */
        FAILED,
        /** Closed. */
        CLOSED
    }

    /** {@code true} when requests are served. */
    public boolean ready() {
        return state == State.READY;
    }
}
