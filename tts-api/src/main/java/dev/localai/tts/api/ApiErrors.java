package dev.localai.tts.api;

import java.util.Map;

/**
 * Factories for the {@link ApiException}s a server answers with, one per status, each carrying the OpenAI
 * {@code type} and a {@code code} clients can switch on.
 */
public final class ApiErrors {
    private ApiErrors() {
    }

    /** 401: a key is required and was missing or wrong. */
    public static ApiException unauthorized(String message) {
        return new ApiException(401, new ApiError(message, ApiError.AUTHENTICATION, null, "invalid_api_key"));
    }

    /** 403: the operation is not allowed on this resource. */
    public static ApiException forbidden(String param, String message) {
        return new ApiException(403, new ApiError(message, ApiError.INVALID_REQUEST, param, "forbidden"));
    }

    /** 404: no such resource. */
    public static ApiException notFound(String param, String code, String message) {
        return new ApiException(404, new ApiError(message, ApiError.INVALID_REQUEST, param, code));
    }

    /** 405: the path exists but not with this method. */
    public static ApiException methodNotAllowed(String method, String path) {
        return new ApiException(405, new ApiError("Method " + method + " is not allowed on " + path + ".",
                ApiError.INVALID_REQUEST, null, "method_not_allowed"));
    }

    /** 409: the resource exists already. */
    public static ApiException conflict(String param, String message) {
        return new ApiException(409, new ApiError(message, ApiError.INVALID_REQUEST, param, "conflict"));
    }

    /** 413: the body is larger than the limit. */
    public static ApiException tooLarge(long limitBytes) {
        return new ApiException(413, new ApiError("The request body is larger than the limit of " + limitBytes
                + " bytes.", ApiError.INVALID_REQUEST, null, "request_too_large"));
    }

    /** 415: the Content-Type is not one this endpoint reads. */
    public static ApiException unsupportedMediaType(String got, String expected) {
        return new ApiException(415, new ApiError("Unsupported Content-Type '" + got + "'; this endpoint expects "
                + expected + ".", ApiError.INVALID_REQUEST, null, "unsupported_media_type"));
    }

    /**
     * 429 with {@code Retry-After}: every synthesis slot and queue place is taken. OpenAI SDKs retry this after the
     * given delay.
     */
    public static ApiException busy(String message, long retryAfterSeconds) {
        long s = Math.max(1, retryAfterSeconds);
        return new ApiException(429, new ApiError(message, ApiError.RATE_LIMIT, null, "server_busy"),
                Map.of("Retry-After", Long.toString(s)), null);
    }

    /** 503 with {@code Retry-After}: the model is not loaded (yet), or the server is shutting down. */
    public static ApiException unavailable(String code, String message, long retryAfterSeconds) {
        long s = Math.max(1, retryAfterSeconds);
        return new ApiException(503, new ApiError(message, ApiError.UNAVAILABLE, null, code),
                Map.of("Retry-After", Long.toString(s)), null);
    }

    /** 500: a fault of the server; the message never carries a stack trace. */
    public static ApiException internal(String message) {
        return new ApiException(500, new ApiError(message, ApiError.SERVER_ERROR, null, "internal_error"));
    }
}
