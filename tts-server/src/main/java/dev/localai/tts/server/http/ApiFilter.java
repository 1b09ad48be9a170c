package dev.localai.tts.server.http;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.http.CrossSiteGuard;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.metrics.Metrics;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Method;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * What every request goes through, in order: a request id ({@code x-request-id} on every response), the
 * cross-site rule ({@link CrossSiteGuard}: Host, foreign Origin, JSON Content-Type, CORS with preflights answered
 * here), the optional API key, and accounting (in-flight gauge for graceful shutdown, request metrics). After the
 * response it closes the connection when the response says {@code Connection: close} (the client asked for it, or
 * the request body was malformed), and it counts clients that went away mid-request as {@code client_closed}.
 */
public final class ApiFilter implements Filter {
    private static final Logger LOG = Logger.getLogger(ApiFilter.class.getName());
    private static final HeaderName API_KEY = HeaderNames.create("x-api-key");
    private static final List<String> EXPOSED = List.of("x-request-id", "X-Audio-Duration", "X-Generation-Time",
            "X-Real-Time-Factor", "X-Time-To-First-Audio", "Retry-After");
    /** The status a request is counted under when its client went away (nginx's convention). */
    static final int CLIENT_CLOSED = 499;

    private final ServerConfig config;
    private final Metrics metrics;
    private final CrossSiteGuard guard;

    public ApiFilter(ServerConfig config, Metrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.guard = CrossSiteGuard.of(config.host(), config.allowedHosts(), config.allowedOrigins(), EXPOSED);
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        String id = RequestIds.assign(req);
        res.header(RequestIds.HEADER, id);
        String path = req.path().path();
        String route = Routes.label(path);
        String method = req.prologue().method().text();
        metrics.inFlight().incrementAndGet();
        int status = 0;
        try {
            Function<String, String> header = name -> req.headers().first(HeaderNames.create(name)).orElse(null);
            Optional<ApiException> refused = guard.check(method, header, Routes.crossSiteRoute(method, path));
            if (refused.isPresent()) {
                refuse(req, res, refused.get());
                return;
            }
            guard.corsHeaders(method, header).forEach(res::header);
            if (CrossSiteGuard.isPreflight(method, header) && header.apply("Origin") != null) {
                if (guard.originAllowed(header.apply("Origin")) && guard.corsEnabled()) {
                    res.status(204);
                    res.send();
                } else {
                    refuse(req, res, new ApiException(403, new ApiError("CORS is not enabled for this origin; add it "
                            + "to allowed_origins.", ApiError.INVALID_REQUEST, null, CrossSiteGuard.ORIGIN_NOT_ALLOWED)));
                }
                return;
            }
            if (!authorized(req, path)) {
                refuse(req, res, ApiErrors.unauthorized(
                        "Missing or invalid API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'."));
                return;
            }
            chain.proceed();
        } catch (ClientClosedException | ServerConnectionException e) {
            status = CLIENT_CLOSED;
            metrics.error("client_closed", CLIENT_CLOSED);
            LOG.log(Level.FINE, () -> "request " + id + " (" + method + " " + route + "): the client went away ("
                    + e.getMessage() + ")");
            throw e;
        } finally {
            metrics.inFlight().decrementAndGet();
            metrics.request(route, methodLabel(req.prologue().method()), status != 0 ? status : res.status().code());
        }
        if (res.isSent() && res.headers().contains(HeaderValues.CONNECTION_CLOSE)) {
            // Helidon answers with "Connection: close" but would then wait for another request on the socket
            throw new CloseConnectionException("Connection: close");
        }
    }

    private void refuse(RoutingRequest req, RoutingResponse res, ApiException e) {
        metrics.error(e.error().type(), e.status());
        LOG.log(Level.FINE, () -> "request " + RequestIds.of(req) + " refused: " + e.status() + " "
                + e.error().code());
        ErrorResponses.send(res, e);
    }

    /** A bounded label: the standard methods by name, anything else as OTHER. */
    private static String methodLabel(Method m) {
        return switch (m.text()) {
            case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" -> m.text();
            default -> "OTHER";
        };
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
