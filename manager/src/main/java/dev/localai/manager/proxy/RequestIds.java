package dev.localai.manager.proxy;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * One id per request: the client's {@code X-Request-Id} when it is a sane token, else a fresh UUID. Every error
 * answer and every forwarded request carries it, so a report can be matched with the manager's and the model's logs.
 */
public final class RequestIds {
    public static final String HEADER = "X-Request-Id";
    private static final Pattern SANE = Pattern.compile("[A-Za-z0-9._:-]{1,128}");

    private RequestIds() {}

    /** The request's id (assigned on first use and kept in the request's context). */
    public static String of(ServerRequest req) {
        return req.context().get(RequestIds.class, String.class).orElseGet(() -> {
            String id = req.headers().first(HeaderNames.create(HEADER)).map(String::strip)
                    .filter(v -> SANE.matcher(v).matches()).orElseGet(() -> UUID.randomUUID().toString());
            req.context().register(RequestIds.class, id);
            return id;
        });
    }
}
