package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonInclude;

/**
 * The {@code error} object of OpenAI's error envelope. All four keys are always serialised (as {@code null} when
 * absent), because OpenAI's schema marks every one of them as required.
 *
 * @param message human-readable explanation
 * @param type    {@code invalid_request_error} for client faults, {@code server_error}, {@code rate_limit_error} ...
 * @param param   the request parameter at fault, or {@code null}
 * @param code    a machine-readable code such as {@code string_above_max_length}, or {@code null}
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ApiError(String message, String type, String param, String code) {

    public static final String INVALID_REQUEST = "invalid_request_error";
    public static final String SERVER_ERROR = "server_error";
    public static final String RATE_LIMIT = "rate_limit_error";
    public static final String AUTHENTICATION = "authentication_error";
    public static final String NOT_FOUND = "not_found_error";
    public static final String UNAVAILABLE = "service_unavailable";

    public ApiError {
        if (message == null) {
            message = "";
        }
        if (type == null) {
            type = SERVER_ERROR;
        }
    }
}
