package dev.localai.manager.error;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiException;
import java.util.Map;

/**
 * The manager's refusals as tts-api's one OpenAI error type ({@link ApiException} carrying an {@link ApiError} and,
 * where a retry makes sense, {@code Retry-After}). A leaf package: the lifecycle, the proxy and the HTTP layer all
 * use it, and it imports nothing of theirs.
 */
public final class ManagerErrors {
    public static final String RETRY_AFTER = "Retry-After";

    private ManagerErrors() {}

    public static ApiException error(int status, String code, String message) {
        return error(status, code, message, 0);
    }

    /** An error with OpenAI's {@code type} for its status and, when {@code retryAfterSeconds > 0}, Retry-After. */
    public static ApiException error(int status, String code, String message, long retryAfterSeconds) {
        Map<String, String> headers = retryAfterSeconds > 0 ? Map.of(RETRY_AFTER, Long.toString(retryAfterSeconds)) : Map.of();
        return new ApiException(status, new ApiError(message, type(status), null, code), headers, null);
    }

    /** OpenAI's {@code type} for a status (the manager's mapping: every 5xx is a {@code server_error}). */
    public static String type(int status) {
        return switch (status) {
            case 401 -> ApiError.AUTHENTICATION;
            case 403 -> "permission_error";
            case 429 -> ApiError.RATE_LIMIT;
            default -> status >= 500 ? ApiError.SERVER_ERROR : ApiError.INVALID_REQUEST;
        };
    }

    public static String code(ApiException e) {
        return e.error().code();
    }

    /** Seconds of the Retry-After header; 0 = none. */
    public static long retryAfterSeconds(ApiException e) {
        String v = e.headers().get(RETRY_AFTER);
        if (v == null) return 0;
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException x) {
            return 0;
        }
    }

    /** Unavailable by policy (gaming mode, VRAM), as opposed to broken. */
    public static boolean policy(ApiException e) {
        return "gaming_mode_active".equals(code(e)) || "insufficient_vram".equals(code(e));
    }

    /** Worth trying the next fallback target. */
    public static boolean fallThrough(ApiException e) {
        return e.status() == 502 || e.status() == 503 || e.status() == 504;
    }

    public static ApiException gaming(String model) {
        return error(503, "gaming_mode_active",
                "Gaming mode is active: GPU model '" + model + "' is unavailable until gaming mode ends", 60);
    }
}
