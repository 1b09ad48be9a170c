package dev.localai.tts.server.http;

import io.helidon.webserver.http.ServerRequest;
import java.util.UUID;
import java.util.regex.Pattern;

/** Per-request ids: a client's {@code x-request-id} when it is sane, else a fresh {@code req_...} id. */
public final class RequestIds {
    /** The header both ways. */
    public static final String HEADER = "x-request-id";
    private static final String KEY = "tts.request-id";
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private RequestIds() {
    }

    /** Chooses the id of a request and remembers it in the request's context. */
    static String assign(ServerRequest req) {
        String id = req.headers().first(io.helidon.http.HeaderNames.create(HEADER))
                .filter(v -> SANE.matcher(v).matches())
                .orElseGet(() -> "req_" + UUID.randomUUID().toString().replace("-", ""));
        req.context().register(KEY, id);
        return id;
    }

    /** The id assigned to this request. */
    public static String of(ServerRequest req) {
        return req.context().get(KEY, String.class).orElse("unknown");
    }
}
