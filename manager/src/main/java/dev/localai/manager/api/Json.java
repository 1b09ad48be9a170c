package dev.localai.manager.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.localai.tts.api.ErrorResponse;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON responses and OpenAI-shaped errors. */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper().disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);

    private Json() {}

    public static byte[] bytes(Object o) {
        try {
            return MAPPER.writeValueAsBytes(o);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    public static void send(ServerResponse res, int status, Object body) {
        res.status(status);
        res.header("Content-Type", "application/json");
        res.send(bytes(body));
    }

    /** OpenAI's error envelope, through the wire type shared with the TTS server ({@code tts-api}). */
    public static ErrorResponse errorBody(ApiError e) {
        return ErrorResponse.of(e.getMessage(), e.type(), null, e.code());
    }

    public static void error(ServerResponse res, ApiError e) {
        if (res.isSent()) return;
        if (e.retryAfterSeconds() > 0) res.header("Retry-After", Long.toString(e.retryAfterSeconds()));
        send(res, e.status(), errorBody(e));
    }

    /** Small ordered map literal. */
    public static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
