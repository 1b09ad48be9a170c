package dev.localai.tts.server.engine;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.core.engine.api.EngineHealth;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.http.PublicMessages;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Owns the engine's lifecycle for the server: loads it on a background thread so the server answers (readiness 503,
 * speech 503) while the model loads, keeps the reason when loading fails, and closes it at shutdown.
 */
public final class EngineSupervisor implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(EngineSupervisor.class.getName());

    /** Where the engine stands, as readiness reports it. */
    public enum State { LOADING, READY, FAILED, CLOSED }

    /**
     * A snapshot.
     *
     * @param state  lifecycle state
     * @param detail what is loading, or why it failed
     * @param engine the engine's own health when loaded, else {@code null}
     */
    public record Status(State state, String detail, EngineHealth engine) {
        /** Ready to serve. */
        public boolean ready() {
            return state == State.READY && (engine == null || engine.ready());
        }
    }

    private final Supplier<? extends SpeechSynthesizer> factory;
    private final String description;
    private final AtomicReference<Status> status;
    private volatile SpeechSynthesizer engine;
    private volatile Thread loader;

    /**
     * @param factory     builds (and warms) the engine; may block for minutes; its exception message is the reason
     *                    readiness shows
     * @param description what is loaded, for the readiness detail (e.g. the model source)
     */
    public EngineSupervisor(Supplier<? extends SpeechSynthesizer> factory, String description) {
        this.factory = Objects.requireNonNull(factory, "factory");
        this.description = description;
        this.status = new AtomicReference<>(new Status(State.LOADING, "loading " + description, null));
    }

    /** Starts loading in the background; returns at once. */
    public synchronized EngineSupervisor start() {
        if (loader == null) {
            loader = Thread.ofPlatform().name("tts-engine-loader").daemon(true).start(this::load);
        }
        return this;
    }

    /** Loads in the calling thread (blocks until ready or failed). */
    public EngineSupervisor startAndWait() throws InterruptedException {
        start();
        loader.join();
        return this;
    }

    /** Waits until loading has finished (ready or failed); returns {@code false} on timeout. */
    public boolean awaitLoaded(java.time.Duration timeout) throws InterruptedException {
        Thread t = loader;
        if (t != null) {
            t.join(timeout);
        }
        return status.get().state() != State.LOADING;
    }

    private void load() {
        long t0 = System.nanoTime();
        try {
            SpeechSynthesizer e = Objects.requireNonNull(factory.get(), "the engine factory returned null");
            synchronized (this) {
                if (status.get().state() == State.CLOSED) {
                    e.close();
                    return;
                }
                engine = e;
                status.set(new Status(State.READY, "ready: " + e.modelInfo().source() + " on "
                        + e.modelInfo().device(), null));
            }
            LOG.info(() -> String.format("engine ready in %.1f s: %s", (System.nanoTime() - t0) / 1e9,
                    e.modelInfo()));
        } catch (RuntimeException | Error e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            LOG.log(Level.SEVERE, "the engine could not be loaded from " + description + ": " + why, e);
            synchronized (this) {
                if (status.get().state() != State.CLOSED) {
                    status.set(new Status(State.FAILED,
                            "the model could not be loaded from " + description + ": " + why, null));
                }
            }
        }
    }

    /** The current status (with the engine's health when loaded). */
    public Status status() {
        Status s = status.get();
        SpeechSynthesizer e = engine;
        if (s.state() == State.READY && e != null) {
            return new Status(s.state(), s.detail(), e.health());
        }
        return s;
    }

    /** The engine when loaded, or {@code null}. */
    public SpeechSynthesizer engineOrNull() {
        return status.get().state() == State.READY ? engine : null;
    }

    /** The engine, or a 503 saying why there is none (loading, failed, shutting down). */
    public SpeechSynthesizer require() {
        Status s = status.get();
        SpeechSynthesizer e = engine;
        return switch (s.state()) {
            case READY -> e;
            // the detail names the model as configured: a local directory's path stays in the server's log
            case LOADING -> throw ApiErrors.unavailable("model_not_ready", "The model is still loading ("
                    + PublicMessages.aboutTheModel(s.detail(), description, "loading") + "); retry shortly.", 5);
            // loading is not retried, so neither should the client (OpenAI SDKs honour x-should-retry)
            case FAILED -> throw new ApiException(503, new ApiError(PublicMessages.aboutTheModel(s.detail(), description,
                    "The model could not be loaded; the server's log says why."), ApiError.UNAVAILABLE, null,
                    "model_unavailable"), Map.of("Retry-After", "60", "x-should-retry", "false"), null);
            case CLOSED -> throw ApiErrors.unavailable("shutting_down", "The server is shutting down.", 5);
        };
    }

    /** Whether {@link #require()} would succeed. */
    public boolean ready() {
        return status().ready();
    }

    /** Closes the engine (cancelling what still runs). Idempotent. */
    @Override
    public void close() {
        SpeechSynthesizer e;
        synchronized (this) {
            if (status.get().state() == State.CLOSED) {
                return;
            }
            status.set(new Status(State.CLOSED, "closed", null));
            e = engine;
            engine = null;
        }
        if (e != null) {
            e.close();
        }
    }
}
