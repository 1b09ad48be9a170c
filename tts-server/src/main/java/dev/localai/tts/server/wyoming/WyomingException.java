package dev.localai.tts.server.wyoming;

/**
 * A request the endpoint refuses, or input it cannot read: the client is sent an {@code error} event with this
 * message and code, and the connection is closed.
 */
final class WyomingException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String code;

    WyomingException(String code, String message) {
        super(message, null, false, false);
        this.code = code;
    }

    /** The machine-readable code of the {@code error} event. */
    String code() {
        return code;
    }
}
