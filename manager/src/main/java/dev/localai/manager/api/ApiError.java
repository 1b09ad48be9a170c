package dev.localai.manager.api;

/**
 * An error the manager answers in OpenAI's envelope:
 * {@code {"error":{"message","type","param","code"}}} with an HTTP status and, where useful, Retry-After.
 */
public class ApiError extends RuntimeException {
    private final int status;
    private final String code;
    private final long retryAfterSeconds;

    public ApiError(int status, String code, String message) {
        this(status, code, message, 0);
    }

    public ApiError(int status, String code, String message, long retryAfterSeconds) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public int status() {
        return status;
    }

    public String code() {
        return code;
    }

    /** Seconds for the Retry-After header; 0 = none. */
    public long retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** OpenAI's {@code type} for this status. */
    public String type() {
        return switch (status) {
            case 400, 404, 413, 415 -> "invalid_request_error";
            case 401 -> "authentication_error";
            case 403 -> "permission_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
    }

    /** Unavailable by policy (gaming mode, VRAM), as opposed to broken. */
    public boolean policy() {
        return "gaming_mode_active".equals(code) || "insufficient_vram".equals(code);
    }

    /** Worth trying the next fallback target. */
    public boolean fallThrough() {
        return status == 502 || status == 503 || status == 504;
    }

    public static ApiError gaming(String model) {
        return new ApiError(503, "gaming_mode_active",
                "Gaming mode is active: GPU model '" + model + "' is unavailable until gaming mode ends", 60);
    }
}
