package dev.localai.tts.server.http;

import io.helidon.webserver.CloseConnectionException;

/**
 * The client went away before its request body was read whole (it aborted the upload, or its connection reset).
 * Not a fault of the server: {@link ApiFilter} logs it at FINE without a trace, counts it as {@code client_closed}
 * and closes the connection; no response is sent (nobody is there to read it).
 */
public final class ClientClosedException extends CloseConnectionException {
    private static final long serialVersionUID = 1L;

    public ClientClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
