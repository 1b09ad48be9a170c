package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.ops.Metrics;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;

/**
 * What every request goes through, in order: a request id ({@code x-request-id} on every response), CORS (preflight
 * answered here), the optional API key, and accounting (in-flight gauge for graceful shutdown, request metrics).
 */
public final class ApiFilter implements Filter {
    private static final HeaderName API_KEY = HeaderNames.create("x-api-key");
    private static final String EXPOSED = "x-request-id, X-Audio-Duration, X-Generation-Time, X-Real-Time-Factor, "
            + "X-Time-To-First-Audio, Retry-After";

    private final ServerConfig config;
    private final Metrics metrics;

    public ApiFilter(ServerConfig config, Metrics metrics) {
        this.config = config;
        this.metrics = metrics;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String id = RequestIds.assign(req);
        res.header(RequestIds.HEADER, id);
        String path = req.path().path();
        String route = Routes.label(path);
        metrics.inFlight().incrementAndGet();
        try {
            if (cors(req, res)) {
                return;
            }
            if (!authorized(req, path)) {
                metrics.error("authentication_error", 401);
                ErrorResponses.send(res, ApiErrors.unauthorized(
                        "Missing or invalid API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."));
                return;
            }
            chain.proceed();
        } finally {
            metrics.inFlight().decrementAndGet();
            metrics.request(route, methodLabel(req.prologue().method()), res.status().code());
        }
    }

    /** A bounded label: the standard methods by name, anything else as OTHER. */
    private static String methodLabel(Method m) {
        return switch (m.text()) {
            case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" -> m.text();
            default -> "OTHER";
        };
    }

    /** Adds CORS headers; answers a preflight and returns {@code true} when it did. */
    private boolean cors(RoutingRequest req, RoutingResponse res) {
        Optional<String> origin = req.headers().first(HeaderNames.ORIGIN);
        List<String> allowed = config.corsOrigins();
        if (origin.isEmpty() || allowed.isEmpty()) {
            return false;
        }
        boolean any = allowed.contains("*");
        if (!any && !allowed.contains(origin.get())) {
            return false;
        }
        res.header(HeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, any ? "*" : origin.get());
        if (!any) {
            res.header(HeaderNames.VARY, "Origin");
        }
        res.header(HeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, EXPOSED);
        boolean preflight = req.prologue().method() == Method.OPTIONS
                && req.headers().contains(HeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
        if (preflight) {
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, PATCH, DELETE, OPTIONS");
            res.header(HeaderNames.ACCESS_CONTROL_ALLOW_HEADERS,
                    "Authorization, Content-Type, x-api-key, x-request-id, Accept");
            res.header(HeaderNames.ACCESS_CONTROL_MAX_AGE, "600");
            res.status(204);
            res.send();
            return true;
        }
        return false;
    }

    private boolean authorized(RoutingRequest req, String path) {
        if (config.apiKeys().isEmpty() || !path.startsWith("/v1/")) {
            return true; // health, metrics and the static playground are open
        }
        if (config.publicListings() && req.prologue().method() == Method.GET && Routes.isListing(path)) {
            return true;
        }
        String given = req.headers().first(HeaderNames.AUTHORIZATION)
                .filter(v -> v.regionMatches(true, 0, "Bearer ", 0, 7))
                .map(v -> v.substring(7).trim())
                .or(() -> req.headers().first(API_KEY).map(String::trim))
                .orElse(null);
        if (given == null || given.isEmpty()) {
            return false;
        }
        byte[] g = given.getBytes(StandardCharsets.UTF_8);
        boolean ok = false;
        for (String k : config.apiKeys()) {
            ok |= MessageDigest.isEqual(g, k.getBytes(StandardCharsets.UTF_8));
        }
        return ok;
    }
}
