package dev.localai.tts.core.engine.api;

import java.time.Duration;
import java.util.Optional;

/**
 * Failures of a {@link SpeechSynthesizer} that callers can act on; each kind maps onto an HTTP status in the server.
 */
public class EngineException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong. */
    public enum Kind {
        /** The engine is loading, warming or failed to load (503). */
        NOT_READY,
        /** All slots and the queue are full (429 with Retry-After). */
        BUSY,
        /** The voice id is unknown (400/404). */
        UNKNOWN_VOICE,
        /** An uploaded reference clip is unusable: undecodable, too short, too long (400). */
        INVALID_AUDIO,
        /** The request cannot be honoured (400). */
        INVALID_REQUEST,
        /** A voice with this id or name exists already (409). */
        CONFLICT,
        /** The operation is not allowed, e.g. deleting a built-in voice (403). */
        FORBIDDEN,
        /** The synthesis was cancelled. */
        CANCELLED,
        /** A fault inside the engine (500). */
        INTERNAL
    }

    private final Kind kind;
    private final Duration retryAfter;

    public EngineException(Kind kind, String message) {
        this(kind, message, null, null);
    }

    public EngineException(Kind kind, String message, Duration retryAfter, Throwable cause) {
        super(message, cause);
        this.kind = java.util.Objects.requireNonNull(kind, "kind");
        this.retryAfter = retryAfter;
    }

    public static EngineException busy(String message, Duration retryAfter) {
        return new EngineException(Kind.BUSY, message, retryAfter, null);
    }

    public static EngineException notReady(String message) {
        return new EngineException(Kind.NOT_READY, message);
    }

    public static EngineException unknownVoice(String id) {
        return new EngineException(Kind.UNKNOWN_VOICE, "Unknown voice: '" + id + "'.");
    }

    public Kind kind() {
        return kind;
    }

    /** A hint of when to retry ({@link Kind#BUSY}, {@link Kind#NOT_READY}); empty when there is none. */
    public Optional<Duration> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
