package dev.localai.tts.api;

/**
 * OpenAI's error envelope {@code {"error":{"message":..,"type":..,"param":..,"code":..}}}.
 *
 * @param error the error
 */
public record ErrorResponse(ApiError error) {
    public static ErrorResponse of(String message, String type, String param, String code) {
        return new ErrorResponse(new ApiError(message, type, param, code));
    }
}
