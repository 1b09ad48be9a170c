package dev.localai.manager.api;

import dev.localai.tts.api.ApiException;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON responses and OpenAI-shaped errors, serialised with tts-api's shared {@link dev.localai.tts.api.Json}. */
final class Json {
    private Json() {}

    static byte[] bytes(Object o) {
        return dev.localai.tts.api.Json.bytes(o);
    }

    static void send(ServerResponse res, int status, Object body) {
        res.status(status);
        res.header("Content-Type", "application/json");
        res.send(bytes(body));
    }

    /** OpenAI's error envelope with the exception's status and headers (Retry-After). */
    static void error(ServerResponse res, ApiException e) {
        if (res.isSent()) return;
        e.headers().forEach(res::header);
        send(res, e.status(), e.body());
    }

    /** Small ordered map literal. */
    static Map<String, Object> obj(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }
}
