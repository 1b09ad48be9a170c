package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ErrorResponse;
import dev.localai.tts.api.Json;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Answers the failures Helidon handles before routing (a malformed request line or header, an oversize header
 * block) in OpenAI's error envelope with a fresh request id, instead of Helidon's plain text, and logs them under
 * that id: FINE for client faults, WARNING for server faults, never with a trace.
 */
public final class TransportErrors implements DirectHandler {
    private static final Logger LOG = Logger.getLogger(TransportErrors.class.getName());

    @Override
    public TransportResponse handle(TransportRequest request, EventType type, Status status,
                                    ServerResponseHeaders headers, String message) {
        String id = "req_" + UUID.randomUUID().toString().replace("-", "");
        int code = status.code();
        String text = PublicMessages.clean(message, status.reasonPhrase());
        LOG.log(code >= 500 ? Level.WARNING : Level.FINE, () -> "request " + id + " (" + type + "): " + code + " "
                + message);
        String errorCode = switch (type) {
            case BAD_REQUEST -> "invalid_request";
            case PAYLOAD_TOO_LARGE -> "request_too_large";
            case HTTP_VERSION_NOT_SUPPORTED -> "http_version_not_supported";
            default -> code >= 500 ? "internal_error" : null;
        };
        byte[] body = Json.bytes(ErrorResponse.of(text, code >= 500 ? ApiError.SERVER_ERROR : ApiError.INVALID_REQUEST,
                null, errorCode));
        return TransportResponse.builder()
                .status(status)
                .headers(headers)
                .header(HeaderNames.CONTENT_TYPE, "application/json")
                .header(HeaderNames.create(RequestIds.HEADER), id)
                .entity(body)
                .build();
    }
}
