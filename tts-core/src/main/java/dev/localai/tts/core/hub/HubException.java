package dev.localai.tts.core.hub;

/** A model could not be resolved or downloaded; the message says what to do, for a person at a console. */
public class HubException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What went wrong, so callers (the CLI, the manager) can pick an exit code or a status. */
    public enum Kind {
        /** Offline mode and the files are not in the cache. */
        OFFLINE,
        /** The hub could not be reached (DNS, connect refused, timeout) and the files are not cached. */
        UNREACHABLE,
        /** The hub answered with an error (401/403/404/5xx) or unexpected headers. */
        HUB_ERROR,
        /** The downloaded bytes do not match the hub's checksum. */
        CHECKSUM,
        /** The transfer broke off repeatedly; a rerun resumes it. */
        INTERRUPTED,
        /** Local file system trouble. */
        IO
    }

    private final Kind kind;

    public HubException(Kind kind, String message) {
        super(message);
        this.kind = kind;
    }

    public HubException(Kind kind, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }
}
