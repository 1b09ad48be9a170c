package dev.localai.manager.api;

import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.docker.DockerException;
import dev.localai.manager.fallback.RemoteTarget;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.lifecycle.ModelView;
import dev.localai.manager.observe.Event;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.proxy.ProxyHandler;
import dev.localai.manager.vram.GpuProbe;
import io.helidon.http.Method;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/** The HTTP surface: OpenAI proxy routes, the ancestor's control API, llama-swap-style extras, metrics, events. */
public final class ManagerServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");
    static final List<String> OPENAI_POST = List.of("/v1/chat/completions", "/v1/completions", "/v1/embeddings",
            "/v1/audio/speech", "/v1/audio/transcriptions", "/v1/audio/translations", "/v1/images/generations",
            "/v1/images/edits", "/v1/images/variations", "/v1/responses");

    private final ModelManager manager;
    private final ManagerConfig config;
    private final Auth auth;
    private final ProxyHandler proxy;
    private final Map<String, RemoteTarget> remotes = new LinkedHashMap<>();
    private final HttpClient probeClient;
    private final long startedMillis = System.currentTimeMillis();
    private WebServer server;
    private volatile boolean closed;

    public ManagerServer(ModelManager manager, HttpClient upstreamClient) {
        this.manager = manager;
        this.config = manager.config();
        this.auth = new Auth(config.auth());
        this.probeClient = upstreamClient;
        for (ManagerConfig.Remote r : config.remotes().values()) remotes.put(r.name(), new RemoteTarget(r));
        this.proxy = new ProxyHandler(manager, upstreamClient, remotes);
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

    private Handler h(Auth.Level level, Handler inner) {
        return (req, res) -> {
            try {
                if (level != null) auth.require(req, level);
                inner.handle(req, res);
            } catch (ApiError e) {
                Json.error(res, e);
            } catch (ProxyHandler.StreamAbort e) {
                // the response already started: drop the connection so the client sees a cut, not a clean end
                throw new CloseConnectionException(e.getMessage(), e);
            } catch (UncheckedIOException e) {
                LOG.fine("client went away: " + e.getMessage());
            } catch (io.helidon.http.RequestException e) {
                int code = e.status().code();
                Json.error(res, new ApiError(code >= 400 ? code : 400, "bad_request", "Bad request: " + e.getMessage()));
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                Json.error(res, new ApiError(400, "invalid_json", "The request body is not valid JSON: " + e.getOriginalMessage()));
            } catch (Exception e) {
                LOG.log(java.util.logging.Level.WARNING, "unexpected failure on " + req.path().path(), e);
                Json.error(res, new ApiError(500, "internal_error", "Internal error: " + e));
            }
        };
    }

    void routing(HttpRouting.Builder r) {
        for (String p : OPENAI_POST) r.post(p, h(Auth.Level.INFERENCE, (req, res) -> proxy.handle(req, res, p, body(req))));
        r.get("/v1/models", h(Auth.Level.INFERENCE, this::models));
        r.get("/v1/models/{id}", h(Auth.Level.INFERENCE, (req, res) ->
                Json.send(res, 200, modelObject(manager.view(modelParam(req))))));
        r.get("/healthz", h(null, (req, res) -> Json.send(res, 200, Json.obj("status", "ok"))));
        r.get("/health/live", h(null, (req, res) -> Json.send(res, 200, Json.obj("status", "ok"))));
        r.get("/health", h(null, this::health));
        r.get("/health/ready", h(null, this::health));
        r.get("/status", h(Auth.Level.INFERENCE, this::status));
        r.get("/running", h(Auth.Level.INFERENCE, this::running));
        r.get("/metrics", h(Auth.Level.INFERENCE, this::metrics));
        r.get("/api/events", h(Auth.Level.INFERENCE, this::events));
        r.get("/logs/{id}", h(Auth.Level.ADMIN, this::logs));
        r.post("/gaming-mode", h(Auth.Level.ADMIN, this::gamingMode));
        r.get("/gaming-mode", h(Auth.Level.INFERENCE, (req, res) -> Json.send(res, 200,
                Json.obj("gaming_mode", manager.gaming(), "safe_to_game", manager.safeToGame()))));
        r.post("/stop-all", h(Auth.Level.ADMIN, (req, res) -> Json.send(res, 200,
                Json.obj("success", true, "stopped", manager.stopAll("manual", waitParam(req, 120))))));
        r.post("/start/{id}", h(Auth.Level.ADMIN, (req, res) -> {
            String id = modelParam(req);
            try {
                manager.start(id, waitParam(req, 600));
            } catch (ApiError e) {
                if (e.status() != 504 || manager.view(id).state() != ModelState.STARTING) throw e;
                // the wait ended, the start goes on
                Json.send(res, 202, Json.obj("success", true, "model", id, "status", "starting", "state", manager.view(id).state().wire()));
                return;
            }
            Json.send(res, 200, Json.obj("success", true, "model", id, "status", "running", "state", manager.view(id).state().wire()));
        }));
        r.post("/stop/{id}", h(Auth.Level.ADMIN, (req, res) -> {
            String id = modelParam(req);
            boolean ok = manager.stop(id, "manual", waitParam(req, 120));
            Json.send(res, ok ? 200 : 202, Json.obj("success", ok, "model", id, "status", manager.view(id).state().wire()));
        }));
        r.post("/swap/{id}", h(Auth.Level.ADMIN, (req, res) -> {
            String id = modelParam(req);
            List<String> stopped = manager.swap(id, waitParam(req, 600));
            Json.send(res, 200, Json.obj("success", true, "model", id, "stopped", stopped));
        }));
        r.post("/api/models/unload", h(Auth.Level.ADMIN, (req, res) -> Json.send(res, 200,
                Json.obj("success", true, "stopped", manager.stopAll("unload", waitParam(req, 120))))));
        r.get("/unload", h(Auth.Level.ADMIN, (req, res) -> Json.send(res, 200,
                Json.obj("success", true, "stopped", manager.stopAll("unload", waitParam(req, 120))))));
        r.post("/api/models/unload/{id}", h(Auth.Level.ADMIN, (req, res) -> {
            String id = modelParam(req);
            boolean ok = manager.stop(id, "unload", waitParam(req, 120));
            Json.send(res, ok ? 200 : 202, Json.obj("success", ok, "model", id));
        }));
        r.any("/upstream/*", h(Auth.Level.INFERENCE, this::upstream));
        UiPages.register(r);
        r.route(Method.OPTIONS, (req, res) -> res.status(204).send());
        r.any((req, res) -> Json.error(res, new ApiError(404, "not_found", "No route for " + req.prologue().method().text()
                + " " + req.path().path())));
    }

    /** {@code /upstream/{model}/rest...}: the model's own server through the manager's port. */
    private void upstream(ServerRequest req, ServerResponse res) {
        String raw = req.path().rawPath().substring("/upstream/".length());
        int slash = raw.indexOf('/');
        String model = java.net.URLDecoder.decode(slash < 0 ? raw : raw.substring(0, slash), StandardCharsets.UTF_8);
        String rest = slash < 0 ? "/" : raw.substring(slash);
        if (model.isEmpty()) throw new ApiError(404, "model_not_found", "Give /upstream/{model}/path");
        proxy.passthrough(req, res, model, rest, body(req));
    }

    private String modelParam(ServerRequest req) {
        String raw = req.path().pathParameters().get("id");
        return config.resolve(raw).map(ModelSpec::id)
                .orElseThrow(() -> new ApiError(404, "model_not_found", "The model '" + raw + "' does not exist"));
    }

    private static Duration waitParam(ServerRequest req, int defSeconds) {
        if (req.query().contains("wait_s")) {
            try {
                return Duration.ofMillis((long) (Double.parseDouble(req.query().get("wait_s")) * 1000));
            } catch (NumberFormatException e) {
                throw new ApiError(400, "invalid_parameter", "wait_s must be a number");
            }
        }
        return Duration.ofSeconds(defSeconds);
    }

    private byte[] body(ServerRequest req) {
        long limit = config.server().maxRequestBodyBytes();
        long declared = req.headers().contentLength().orElse(-1);
        if (declared > limit) throw new ApiError(413, "request_too_large", "Request body exceeds " + limit + " bytes");
        try (InputStream in = req.content().inputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[16384];
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                if (out.size() > limit) throw new ApiError(413, "request_too_large", "Request body exceeds " + limit + " bytes");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ------------------------------------------------------------------ views

    private void models(ServerRequest req, ServerResponse res) {
        List<Object> data = new ArrayList<>();
        for (ModelView v : manager.views()) {
            if (!v.spec().unlisted()) data.add(modelObject(v));
        }
        Json.send(res, 200, Json.obj("object", "list", "data", data));
    }

    /** OpenAI's model object plus the manager's fields (state, type, VRAM); served from config, never fails. */
    private Map<String, Object> modelObject(ModelView v) {
        return Json.obj("id", v.spec().id(), "object", "model", "created", startedMillis / 1000,
                "owned_by", "local-ai-manager", "type", v.spec().type().wire(), "status", v.state().wire(),
                "state", v.state().wire(), "keep_warm", v.spec().keepWarm(), "gpu", v.spec().gpu(),
                "vram_mb", v.spec().vramMb(), "vram_gb", Math.round(v.spec().vramMb() / 102.4) / 10.0,
                "aliases", v.spec().aliases());
    }

    private void health(ServerRequest req, ServerResponse res) {
        List<String> down = new ArrayList<>();
        boolean gaming = manager.gaming();
        for (ModelView v : manager.views()) {
            if (v.spec().keepWarm() && v.state() != ModelState.READY && !(gaming && v.spec().gpu())) down.add(v.spec().id());
        }
        boolean ok = down.isEmpty() && manager.runtimeAvailable();
        Json.send(res, ok ? 200 : 503, Json.obj("status", ok ? "ok" : "degraded", "gaming_mode", gaming,
                "container_runtime", manager.runtimeAvailable() ? "available" : "unavailable", "down", down));
    }

    private Map<String, Object> brief(ModelView v) {
        return Json.obj("name", v.spec().id(), "id", v.spec().id(), "type", v.spec().type().wire(),
                // "status" keeps the ancestor's container words; "state" is the lifecycle state
                "container", v.spec().container(), "status", v.state().active() ? "running" : "stopped",
                "state", v.state().wire(), "port", v.spec().port(),
                "keep_warm", v.spec().keepWarm(), "vram_gb", Math.round(v.spec().vramMb() / 102.4) / 10.0,
                "active_requests", v.inflight());
    }

    private void status(ServerRequest req, ServerResponse res) {
        List<ModelView> views = manager.views();
        boolean gaming = manager.gaming();
        List<Object> running = new ArrayList<>();
        List<Object> stopped = new ArrayList<>();
        Map<String, Object> models = new LinkedHashMap<>();
        int active = 0;
        int available = 0;
        long now = System.currentTimeMillis();
        for (ModelView v : views) {
            if (v.state().active()) running.add(brief(v));
            else stopped.add(brief(v));
            if (v.state() == ModelState.READY) available++;
            active += v.inflight();
            models.put(v.spec().id(), Json.obj("state", v.state().wire(), "container", v.spec().container(),
                    "type", v.spec().type().wire(), "keep_warm", v.spec().keepWarm(), "gpu", v.spec().gpu(),
                    "vram_mb", v.spec().vramMb(), "inflight", v.inflight(), "queued", v.waiting(),
                    "idle_timeout_s", v.spec().idleTimeout().toSeconds(), "starts", v.starts(), "crashes", v.crashes(),
                    "last_error", v.lastError(), "reason", v.reason(),
                    "retry_after_ms", Math.max(0, v.backoffUntilMillis() - now)));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        // old field set (dashboard GamingModePanel)
        body.put("gaming_mode", gaming);
        body.put("safe_to_game", manager.safeToGame());
        body.put("running_models", running);
        body.put("stopped_models", stopped);
        // new field set (llm-tui)
        body.put("mode", gaming ? "gaming" : "normal");
        body.put("gaming_mode_enabled", gaming);
        body.put("gaming_mode_active", gaming);
        GpuProbe.Sample s = manager.gpuSample().orElse(null);
        body.put("gpu_vram_gb", s == null ? null : Math.round(s.totalMb() / 102.4) / 10.0);
        body.put("gpu_vram_used_gb", s == null ? null : Math.round(s.usedMb() / 102.4) / 10.0);
        body.put("idle_timeout", views.stream().filter(v -> !v.spec().keepWarm()).mapToLong(v -> v.spec().idleTimeout().toSeconds()).max().orElse(0));
        body.put("running", running);
        body.put("stopped", stopped);
        body.put("active_requests", active);
        body.put("idle_timeout_seconds", body.get("idle_timeout")); // the oldest clients' name
        // both generations of the summary: {total, available, running} and {total_models, running, stopped}
        body.put("summary", Json.obj("total", views.size(), "available", available, "running", running.size(),
                "total_models", views.size(), "stopped", stopped.size()));
        // extras
        body.put("container_runtime", Json.obj("available", manager.runtimeAvailable(), "error", manager.runtimeError()));
        body.put("models", models);
        Map<String, Object> fb = new LinkedHashMap<>();
        remotes.forEach((k, r) -> fb.put(k, Json.obj("circuit", r.state().name().toLowerCase(), "healthy", r.lastProbeHealthy())));
        body.put("fallbacks", fb);
        Json.send(res, 200, body);
    }

    private void running(ServerRequest req, ServerResponse res) {
        List<Object> list = new ArrayList<>();
        for (ModelView v : manager.views()) {
            if (v.state().active()) list.add(Json.obj("model", v.spec().id(), "state", v.state().wire(), "inflight", v.inflight(),
                    "container", v.spec().container()));
        }
        Json.send(res, 200, Json.obj("running", list));
    }

    private void gamingMode(ServerRequest req, ServerResponse res) throws IOException {
        Boolean enable = null;
        if (req.query().contains("enable")) enable = parseBool(req.query().get("enable"));
        else {
            byte[] b = body(req);
            if (b.length > 0) {
                var n = Json.MAPPER.readTree(b);
                String key = n == null ? null : n.has("enable") ? "enable" : n.has("enabled") ? "enabled" : null;
                if (key != null) enable = n.get(key).isBoolean() ? n.get(key).asBoolean() : parseBool(n.get(key).asText());
            }
        }
        if (enable == null) enable = true; // the ancestor's default: a bare POST /gaming-mode turns it on
        boolean force = req.query().contains("force") && Boolean.TRUE.equals(parseBool(req.query().get("force")));
        ModelManager.GamingResult r;
        if (enable) {
            Duration wait = req.query().contains("wait_s") ? waitParam(req, 0)
                    : config.gaming().drainTimeout().plus(Duration.ofSeconds(60));
            r = manager.gamingOn(force, wait);
        } else {
            r = manager.gamingOff();
            if (req.query().contains("wait") && Boolean.TRUE.equals(parseBool(req.query().get("wait")))) {
                manager.awaitCondition(vs -> vs.stream().filter(v -> v.spec().keepWarm())
                        .allMatch(v -> v.state() == ModelState.READY || v.state() == ModelState.FAILED), waitParam(req, 600));
            }
        }
        String message = enable ? "Gaming mode enabled. " + (r.safeToGame() ? "All GPU models stopped." : "GPU models are stopping.")
                : "Gaming mode disabled. Keep-warm models are starting; others start on demand.";
        Json.send(res, enable ? 200 : 202, Json.obj("success", true, "gaming_mode", r.gamingMode(), "safe_to_game", r.safeToGame(),
                "message", message,
                "stopped_models", r.stoppedModels(), "vram_used_mb", r.vramUsedMb(), "took_ms", r.tookMs(),
                "persisted", r.persisted()));
    }

    private static Boolean parseBool(String s) {
        return switch (s.strip().toLowerCase()) {
            case "true", "1", "on", "yes" -> true;
            case "false", "0", "off", "no" -> false;
            default -> throw new ApiError(400, "invalid_parameter", "not a boolean: " + s);
        };
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        StringBuilder out = new StringBuilder();
        Map<String, Integer> state = new TreeMap<>();
        Map<String, Integer> inflight = new TreeMap<>();
        Map<String, Integer> queue = new TreeMap<>();
        for (ModelView v : manager.views()) {
            for (ModelState s : ModelState.values())
                state.put(Metrics.labels("model", v.spec().id(), "state", s.wire()), v.state() == s ? 1 : 0);
            inflight.put(Metrics.labels("model", v.spec().id()), v.inflight());
            queue.put(Metrics.labels("model", v.spec().id()), v.waiting());
        }
        Metrics.gauge(out, "manager_model_state", "1 for the model's current state", state);
        Metrics.gauge(out, "manager_inflight", "Requests in flight per model", inflight);
        Metrics.gauge(out, "manager_queue_depth", "Requests waiting per model", queue);
        Metrics.gauge(out, "manager_gaming_mode", "1 while gaming mode is on", Map.of("", manager.gaming() ? 1 : 0));
        Metrics.gauge(out, "manager_container_runtime_up", "1 when the docker daemon answers", Map.of("", manager.runtimeAvailable() ? 1 : 0));
        manager.gpuSample().ifPresent(s -> {
            Metrics.gauge(out, "manager_gpu_memory_used_bytes", "GPU memory in use", Map.of("", s.usedMb() * 1024 * 1024));
            Metrics.gauge(out, "manager_gpu_memory_total_bytes", "GPU memory total", Map.of("", s.totalMb() * 1024 * 1024));
        });
        manager.metrics().render(out);
        res.header("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        res.send(out.toString().getBytes(StandardCharsets.UTF_8));
    }

    private void events(ServerRequest req, ServerResponse res) {
        BlockingQueue<Event> q = manager.events().subscribe();
        try {
            res.header("Content-Type", "text/event-stream");
            res.header("Cache-Control", "no-cache");
            res.header("X-Accel-Buffering", "no");
            OutputStream out = res.outputStream();
            // initial snapshot so a dashboard can render at once
            for (ModelView v : manager.views()) {
                writeEvent(out, "state", Json.obj("model", v.spec().id(), "state", v.state().wire(), "snapshot", true));
            }
            writeEvent(out, "mode", Json.obj("gaming_mode", manager.gaming(), "snapshot", true));
            long lastWrite = System.nanoTime();
            while (!closed) {
                Event e = q.poll(1, TimeUnit.SECONDS);
                if (e == null) {
                    if (System.nanoTime() - lastWrite > TimeUnit.SECONDS.toNanos(15)) {
                        out.write(": keep-alive\n\n".getBytes(StandardCharsets.UTF_8));
                        out.flush();
                        lastWrite = System.nanoTime();
                    }
                    continue;
                }
                lastWrite = System.nanoTime();
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("seq", e.seq());
                d.put("time", e.timeMillis());
                if (e.model() != null) d.put("model", e.model());
                d.putAll(e.data());
                writeEvent(out, e.type(), d);
            }
            out.close();
        } catch (IOException | UncheckedIOException e) {
            // subscriber left
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            manager.events().unsubscribe(q);
        }
    }

    private static void writeEvent(OutputStream out, String type, Object data) throws IOException {
        out.write(("event: " + type + "\ndata: ").getBytes(StandardCharsets.UTF_8));
        out.write(Json.bytes(data));
        out.write("\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private void logs(ServerRequest req, ServerResponse res) {
        String id = modelParam(req);
        ModelSpec m = config.models().get(id);
        int tail = 200;
        if (req.query().contains("tail")) {
            try {
                tail = Integer.parseInt(req.query().get("tail"));
            } catch (NumberFormatException e) {
                throw new ApiError(400, "invalid_parameter", "tail must be an integer");
            }
        }
        boolean follow = req.query().contains("follow") && Boolean.TRUE.equals(parseBool(req.query().get("follow")));
        try {
            if (!follow) {
                String text = manager.runtime().logs(m.container(), tail);
                res.header("Content-Type", "text/plain; charset=utf-8");
                res.send(text.getBytes(StandardCharsets.UTF_8));
                return;
            }
            try (InputStream in = manager.runtime().followLogs(m.container(), tail)) {
                res.header("Content-Type", "text/plain; charset=utf-8");
                res.header("X-Accel-Buffering", "no");
                OutputStream out = res.outputStream();
                byte[] buf = new byte[8192];
                int n;
                while ((n = in.read(buf)) >= 0) {
                    out.write(buf, 0, n);
                    out.flush();
                }
                out.close();
            } catch (IOException | UncheckedIOException e) {
                // client left: closing the stream kills docker logs -f
            }
        } catch (DockerException e) {
            throw new ApiError(e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE ? 503 : 502,
                    e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE ? "container_runtime_unavailable" : "logs_unavailable", e.getMessage());
        }
    }
}
