package dev.localai.manager.api;

import io.helidon.webserver.CloseConnectionException;

/**
 * A streaming client (the event stream, a followed log) went away mid-response: an ordinary end, not a fault. Thrown
 * out of the handler once its resources are released, so the web server closes the connection without trying to
 * finish the response on a dead socket and without logging above its trace level.
 */
final class ClientGone extends CloseConnectionException {
    private static final long serialVersionUID = 1L;

    ClientGone(String message, Throwable cause) {
        super(message, cause);
    }
}
