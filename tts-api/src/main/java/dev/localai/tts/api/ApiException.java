package dev.localai.tts.api;

import java.util.Map;

/**
 * A failure that is answered with an HTTP status and OpenAI's error envelope. Thrown by validation (always a 4xx)
 * and by servers for their own refusals (401, 404, 429, 503...).
 */
public class ApiException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final ApiError error;
    private final Map<String, String> headers;

    public ApiException(int status, ApiError error) {
        this(status, error, Map.of(), null);
    }

    public ApiException(int status, ApiError error, Map<String, String> headers, Throwable cause) {
        super(error.message(), cause);
        this.status = status;
        this.error = error;
        this.headers = Map.copyOf(headers);
    }

    /** A 400 {@code invalid_request_error} naming the parameter at fault. */
    public static ApiException invalid(String param, String code, String message) {
        return new ApiException(400, new ApiError(message, ApiError.INVALID_REQUEST, param, code));
    }

    /** HTTP status to answer with. */
    public int status() {
        return status;
    }

    /** The error object of the envelope. */
    public ApiError error() {
        return error;
    }

    /** Extra response headers (e.g. {@code Retry-After}). */
    public Map<String, String> headers() {
        return headers;
    }

    /** The envelope to serialise. */
    public ErrorResponse body() {
        return new ErrorResponse(error);
    }
}
