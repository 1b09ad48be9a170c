package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.Json;
import dev.localai.tts.core.engine.api.EngineException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;
import java.util.Map;

/**
 * Writes OpenAI's error envelope and maps engine failures onto HTTP statuses: client faults are 4xx (OpenAI SDKs
 * retry 5xx), busy is 429 with {@code Retry-After}, not ready is 503.
 */
public final class ErrorResponses {
    private ErrorResponses() {
    }

    /** Sends {@code e} as the response (status, extra headers, JSON envelope), unless the response is committed. */
    public static void send(ServerResponse res, ApiException e) {
        if (res.isSent()) {
            return;
        }
        res.status(e.status());
        for (Map.Entry<String, String> h : e.headers().entrySet()) {
            res.header(h.getKey(), h.getValue());
        }
        if (e.status() == 401) {
            res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
        }
        if (e.status() >= 400 && e.status() < 500 && e.status() != 408 && e.status() != 409 && e.status() != 429) {
            // OpenAI SDKs honour this: a client fault is not worth a retry
            res.header("x-should-retry", "false");
        }
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Json.bytes(e.body()));
    }

    /**
     * The HTTP answer to an engine failure.
     *
     * @param e          the failure
     * @param voiceParam the request parameter naming the voice ({@code voice}, {@code id} ...), for unknown voices
     * @param voiceIs404 {@code true} where the voice is the addressed resource (404), {@code false} where it is a
     *                   request field (400)
     */
    public static ApiException fromEngine(EngineException e, String voiceParam, boolean voiceIs404) {
        String raw = e.getMessage() == null ? e.kind().name() : e.getMessage();
        String msg = PublicMessages.clean(raw, "the engine refused the request");
        return switch (e.kind()) {
            case BUSY -> ApiErrors.busy("The server is busy: " + msg + ". Retry later.",
                    e.retryAfter().map(d -> (d.toMillis() + 999) / 1000).orElse(1L));
            case NOT_READY -> ApiErrors.unavailable("model_not_ready", msg, 5);
            case UNKNOWN_VOICE -> voiceIs404 ? ApiErrors.notFound(voiceParam, "voice_not_found", msg)
                    : ApiException.invalid(voiceParam, "voice_not_found", msg);
            case INVALID_AUDIO -> ApiException.invalid("audio_sample", "invalid_audio",
                    "The reference clip cannot be used: " + PublicMessages.clean(raw, "it is not audio that can be "
                            + "decoded") + ". Send at least 5 seconds of speech in a common audio format (WAV, MP3, "
                            + "FLAC, Ogg, M4A).");
            case INVALID_REQUEST -> ApiException.invalid(null, "invalid_request", msg);
            case CONFLICT -> ApiErrors.conflict("name", msg);
            case FORBIDDEN -> ApiErrors.forbidden(voiceParam, msg);
            case CANCELLED -> new ApiException(499, new ApiError(msg, ApiError.INVALID_REQUEST, null, "cancelled"));
            case INTERNAL -> ApiErrors.internal("The synthesis failed: " + msg);
        };
    }
}
