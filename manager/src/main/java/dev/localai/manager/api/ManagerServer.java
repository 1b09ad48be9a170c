package dev.localai.manager.api;

import static dev.localai.manager.error.ManagerErrors.error;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.fallback.RemoteTarget;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.proxy.ProxyHandler;
import dev.localai.tts.api.ApiException;
import dev.localai.manager.proxy.RequestIds;
import dev.localai.tts.api.http.CrossSiteGuard;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Method;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The HTTP surface on one port: the OpenAI proxy routes and {@code /upstream}, the read side ({@link StatusRoutes}),
 * the control plane ({@link ControlRoutes}) and the home-lab page ({@link UiPages}); every route goes through the
 * same key check ({@link Guard}) and the routing's error handlers.
 */
public final class ManagerServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");
    static final List<String> OPENAI_POST = List.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings",
            "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/images/generations",
            "/v1/images/edits", "/v1/images/variations", "/v1/responses");
    /** Routes that read a JSON body: another Content-Type is refused (415), closing the text/plain simple request. */
    static final Set<String> JSON_ROUTES = Set.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings",
            "/v1/audio/speech", "/v1/images/generations", "/v1/responses", "/gaming-mode");
    /** GET routes that change state, guarded like a POST. */
    static final Set<String> STATE_CHANGING_GETS = Set.of("/unload");

    private final ManagerConfig config;
    private final Auth auth;
    private final ProxyHandler proxy;
    private final StatusRoutes status;
    private final ControlRoutes control;
    private final Map<String, RemoteTarget> remotes = new LinkedHashMap<>();
    private final HttpClient probeClient;
    private volatile CrossSiteGuard guard;
    private WebServer server;
    private volatile boolean closed;

    public ManagerServer(ModelManager manager, HttpClient upstreamClient) {
        this.config = manager.config();
        this.auth = new Auth(config.auth());
        this.probeClient = upstreamClient;
        for (ManagerConfig.Remote r : config.remotes().values()) remotes.put(r.name(), new RemoteTarget(r));
        this.proxy = new ProxyHandler(manager, upstreamClient, remotes);
        this.status = new StatusRoutes(manager, remotes, () -> closed);
        this.control = new ControlRoutes(manager);
    }

    /** Refuses a non-loopback listen address without keys unless allowed. */
    public static void checkListenSecurity(String host, ManagerConfig cfg, boolean allowInsecure) {
        boolean loopback;
        try {
            InetAddress a = InetAddress.getByName(host);
            loopback = a.isLoopbackAddress();
        } catch (IOException e) {
            loopback = false;
        }
        if (!loopback && !cfg.auth().enabled() && !allowInsecure && !cfg.server().allowInsecure())
            throw new IllegalStateException("refusing to listen on " + host + " without API keys; configure auth.api_keys/admin_keys "
                    + "or pass --allow-insecure");
    }

    public ManagerServer start(String listen) {
        String[] hp = ConfigLoader.parseListen(listen, "--listen");
        guard = CrossSiteGuard.of(hp[0], config.server().allowedHosts(), config.server().allowedOrigins(),
                List.of(RequestIds.HEADER, "Retry-After", "X-Served-By"));
        server = WebServer.builder()
                .host(hp[0])
                .port(Integer.parseInt(hp[1]))
                // no server-side payload limit: the handlers enforce max_request_body_mb and answer 413 in OpenAI's shape
                .routing(this::routing)
                .build()
                .start();
        for (RemoteTarget r : remotes.values()) {
            Thread.ofVirtual().name("probe-" + r.remote().name()).start(() -> {
                while (!closed) {
                    r.probe(probeClient);
                    try {
                        Thread.sleep(r.remote().probeInterval().toMillis());
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
        }
        LOG.info("manager listening on " + hp[0] + ":" + server.port());
        return this;
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() {
        closed = true;
        if (server != null) server.stop();
    }

    /** Wraps a handler with the key check of its level (null = open); failures go to the routing's error handlers. */
    private Handler h(Auth.Level level, Handler inner) {
        if (level == null) return inner;
        return (req, res) -> {
            auth.require(req, level);
            inner.handle(req, res);
        };
    }

    /** Wraps a handler with the key check of its level (null = open). */
    @FunctionalInterface
    interface Guard {
        Handler wrap(Auth.Level level, Handler inner);
    }

    /**
     * Every failure of a route becomes OpenAI's error envelope here. A {@link ProxyHandler.StreamAbort} (the
     * response had started) is a {@code CloseConnectionException}: Helidon drops the connection, so the client sees
     * a cut rather than a clean end.
     */
    private void errors(HttpRouting.Builder r) {
        r.error(ApiException.class, ManagerServer::answer)
                .error(JsonProcessingException.class, (req, res, e) -> answer(req, res,
                        error(400, "invalid_json", "The request body is not valid JSON: " + e.getOriginalMessage())))
                .error(HttpException.class, (req, res, e) -> {
                    int code = e.status().code();
                    answer(req, res, error(code >= 400 ? code : 400, "bad_request", "Bad request: " + e.getMessage()));
                })
                .error(UncheckedIOException.class, (req, res, e) -> {
                    LOG.fine("client went away: " + e.getMessage());
                    try {
                        answer(req, res, error(500, "internal_error", "The connection failed"));
                    } catch (UncheckedIOException gone) {
                        // nobody to answer
                    }
                })
                .error(Throwable.class, (req, res, e) -> {
                    String rid = RequestIds.of(req);
                    LOG.log(Level.WARNING, "request " + rid + " (" + req.path().path() + ") failed unexpectedly", e);
                    answer(req, res, error(500, "internal_error", "Internal error (request " + rid + "); see the manager's log"));
                });
    }

    /** OpenAI's error envelope, with the request's id (the same id the log and the upstream saw). */
    private static void answer(ServerRequest req, ServerResponse res, ApiException e) {
        if (res.isSent()) return;
        res.header(RequestIds.HEADER, RequestIds.of(req));
        if (req.headers().contains(HeaderValues.CONNECTION_CLOSE)) res.header(HeaderValues.CONNECTION_CLOSE);
        Json.error(res, e);
    }

    /**
     * The cross-site rule shared with tts-server ({@link CrossSiteGuard}): Host check, foreign Origin refused on
     * state-changing requests ({@code GET /unload} included), JSON Content-Type on JSON routes, CORS only for
     * configured origins. Independent of the API keys, which the routes check afterwards.
     */
    private void crossSite(HttpRouting.Builder r) {
        r.addFilter((chain, req, res) -> {
            String path = req.path().path();
            String method = req.prologue().method().text();
            Function<String, String> header = name -> req.headers().first(HeaderNames.create(name)).orElse(null);
            CrossSiteGuard.Route route = STATE_CHANGING_GETS.contains(path) ? CrossSiteGuard.Route.STATE_CHANGING_GET
                    : JSON_ROUTES.contains(path) ? CrossSiteGuard.Route.JSON : CrossSiteGuard.Route.PLAIN;
            guard.corsHeaders(method, header).forEach(res::header);
            res.header(RequestIds.HEADER, RequestIds.of(req));
            if (req.headers().contains(HeaderValues.CONNECTION_CLOSE)) res.header(HeaderValues.CONNECTION_CLOSE);
            Optional<ApiException> refusal = guard.check(method, header, route);
            if (refusal.isPresent()) {
                LOG.info("refused " + method + " " + path + " (request " + RequestIds.of(req) + "): "
                        + refusal.get().error().code());
                throw refusal.get();
            }
            chain.proceed();
        });
    }

    void routing(HttpRouting.Builder r) {
        errors(r);
        crossSite(r);
        long limit = config.server().maxRequestBodyBytes();
        for (String p : OPENAI_POST) {
            r.post(p, h(Auth.Level.INFERENCE, (req, res) -> proxy.handle(req, res, p, RequestParams.body(req, limit))));
        }
        status.register(r, this::h);
        control.register(r, this::h);
        r.any("/upstream/*", h(Auth.Level.INFERENCE, this::upstream));
        // the TTS server's own API (voice library) and its web playground, through the default TTS model
        r.any("/v1/audio/voices", h(Auth.Level.INFERENCE, this::ttsApi));
        r.any("/v1/audio/voices/*", h(Auth.Level.INFERENCE, this::ttsApi));
        r.get("/v1/audio/models", h(Auth.Level.INFERENCE, this::ttsApi));
        r.get("/tts", (req, res) -> res.status(301).header(HeaderNames.LOCATION, "/tts/").send());
        r.any("/tts/*", h(Auth.Level.INFERENCE, this::ttsPlayground));
        UiPages.register(r);
        r.route(Method.OPTIONS, (req, res) -> res.status(204).send());
        r.any((req, res) -> {
            throw error(404, "not_found", "No route for " + req.prologue().method().text() + " " + req.path().path());
        });
    }

    /** The TTS model a request means: {@code ?model=} if given, else the default TTS model. */
    private String ttsModel(ServerRequest req) {
        if (req.query().contains("model")) return req.query().get("model");
        return config.defaultFor(dev.localai.manager.config.ModelType.TTS)
                .map(dev.localai.manager.config.ModelSpec::id)
                .orElseThrow(() -> error(404, "model_not_found", "No model of type tts is configured"));
    }

    /** {@code /v1/audio/voices...}, {@code /v1/audio/models}: sent unchanged to the TTS server. */
    private void ttsApi(ServerRequest req, ServerResponse res) {
        proxy.passthrough(req, res, ttsModel(req), req.path().rawPath(),
                RequestParams.body(req, config.server().maxRequestBodyBytes()));
    }

    /**
     * {@code /tts/...}: the TTS server's root (its web playground and API) under the same prefix the dashboard's
     * nginx uses, so the page's relative URLs keep working through the manager.
     */
    private void ttsPlayground(ServerRequest req, ServerResponse res) {
        String rest = req.path().rawPath().substring("/tts".length());
        proxy.passthrough(req, res, ttsModel(req), rest.isEmpty() ? "/" : rest,
                RequestParams.body(req, config.server().maxRequestBodyBytes()));
    }

    /** {@code /upstream/{model}/rest...}: the model's own server through the manager's port. */
    private void upstream(ServerRequest req, ServerResponse res) {
        String raw = req.path().rawPath().substring("/upstream/".length());
        int slash = raw.indexOf('/');
        String model = java.net.URLDecoder.decode(slash < 0 ? raw : raw.substring(0, slash), StandardCharsets.UTF_8);
        String rest = slash < 0 ? "/" : raw.substring(slash);
        if (model.isEmpty()) throw error(404, "model_not_found", "Give /upstream/{model}/path");
        proxy.passthrough(req, res, model, rest, RequestParams.body(req, config.server().maxRequestBodyBytes()));
    }
}
