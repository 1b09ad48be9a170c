package dev.localai.manager.api;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.docker.DockerException;
import dev.localai.manager.fallback.RemoteTarget;
import dev.localai.manager.lifecycle.GamingSafety;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.lifecycle.ModelView;
import dev.localai.manager.observe.Event;
import dev.localai.manager.observe.Metrics;
import dev.localai.manager.proxy.RequestIds;
import dev.localai.manager.vram.GpuProbe;
import io.helidon.webserver.ServerConnectionException;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.logging.Logger;

/**
 * The read side: models, the ancestor's {@code /status}, health, running models, Prometheus metrics, the SSE event
 * stream and container logs.
 */
final class StatusRoutes {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager.api");
    private final ModelManager manager;
    private final ManagerConfig config;
    private final Map<String, RemoteTarget> remotes;
    private final BooleanSupplier closed;
    private final long startedMillis = System.currentTimeMillis();

    StatusRoutes(ModelManager manager, Map<String, RemoteTarget> remotes, BooleanSupplier closed) {
        this.manager = manager;
        this.config = manager.config();
        this.remotes = remotes;
        this.closed = closed;
    }

    void register(HttpRouting.Builder r, ManagerServer.Guard guard) {
        r.get("/v1/models", guard.wrap(Auth.Level.INFERENCE, this::models));
        r.get("/v1/models/{id}", guard.wrap(Auth.Level.INFERENCE, (req, res) ->
                Json.send(res, 200, modelObject(manager.view(RequestParams.modelId(req, config))))));
        r.get("/healthz", guard.wrap(null, (req, res) -> Json.send(res, 200, Json.obj("status", "ok"))));
        r.get("/health/live", guard.wrap(null, (req, res) -> Json.send(res, 200, Json.obj("status", "ok"))));
        r.get("/health", guard.wrap(null, this::health));
        r.get("/health/ready", guard.wrap(null, this::health));
        r.get("/status", guard.wrap(Auth.Level.INFERENCE, this::status));
        r.get("/running", guard.wrap(Auth.Level.INFERENCE, this::running));
        r.get("/metrics", guard.wrap(Auth.Level.INFERENCE, this::metrics));
        r.get("/api/events", guard.wrap(Auth.Level.INFERENCE, this::events));
        r.get("/logs/{id}", guard.wrap(Auth.Level.ADMIN, this::logs));
        r.get("/gaming-mode", guard.wrap(Auth.Level.INFERENCE, (req, res) -> {
            GamingSafety safety = manager.gamingSafety();
            Json.send(res, 200, Json.obj("gaming_mode", manager.gaming(), "safe_to_game", safety.safe(),
                    "safe_to_game_reason", safety.reason()));
        }));
    }

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
        Json.send(res, ok ? 200 : 503, Json.obj("status", ok ? "healthy" : "degraded", "gaming_mode", gaming,
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
        long managerNow = manager.now();
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
                    "retry_after_ms", Math.max(0, v.backoffUntilMillis() - managerNow),
                    // cold-start progress: how long the current start has run, of how long it may
                    "start_elapsed_s", v.state() == ModelState.STARTING ? Math.max(0, managerNow - v.startedMillis()) / 1000 : null,
                    "start_timeout_s", v.spec().startTimeout().toSeconds()));
        }
        Map<String, Object> body = new LinkedHashMap<>();
        // old field set (dashboard GamingModePanel)
        body.put("gaming_mode", gaming);
        GamingSafety safety = manager.gamingSafety();
        body.put("safe_to_game", safety.safe());
        body.put("safe_to_game_reason", safety.reason());
        body.put("running_models", running);
        body.put("stopped_models", stopped);
        // new field set (llm-tui)
        // the ancestor's meanings: "mode" is how models run, "gaming_mode_enabled" says the feature is available,
        // "gaming_mode_active" is the switch; "manager_mode" is ours
        body.put("mode", "on-demand");
        body.put("gaming_mode_enabled", true);
        body.put("gaming_mode_active", gaming);
        body.put("manager_mode", gaming ? "gaming" : "normal");
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
            while (!closed.getAsBoolean()) {
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
        } catch (IOException | UncheckedIOException | ServerConnectionException e) {
            // a closed tab or a dropped connection: the next write fails (Helidon reports it as a
            // ServerConnectionException, "Broken pipe"); an ordinary end, nothing to report above FINE
            manager.events().unsubscribe(q);
            throw left(req, "events", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            manager.events().unsubscribe(q);
        }
    }

    /** Logs a streaming client's departure at FINE (no trace) and gives what the handler throws to drop the line. */
    private static ClientGone left(ServerRequest req, String what, Exception e) {
        LOG.fine(() -> what + " client left (request " + RequestIds.of(req) + "): " + e.getMessage());
        return new ClientGone(what + " client left", e);
    }

    private static void writeEvent(OutputStream out, String type, Object data) throws IOException {
        out.write(("event: " + type + "\ndata: ").getBytes(StandardCharsets.UTF_8));
        out.write(Json.bytes(data));
        out.write("\n\n".getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Idle time after which a followed log stream sends an empty line: the only way to notice a client that left. */
    static final long LOG_HEARTBEAT_MS = 5_000;

    private void logs(ServerRequest req, ServerResponse res) {
        String id = RequestParams.modelId(req, config);
        ModelSpec m = config.models().get(id);
        int tail = RequestParams.intParam(req, "tail", 200, 0, 100_000);
        try {
            if (!RequestParams.flag(req, "follow")) {
                String text = manager.runtime().logs(m.container(), tail);
                res.header("Content-Type", "text/plain; charset=utf-8");
                res.send(text.getBytes(StandardCharsets.UTF_8));
                return;
            }
            try (InputStream in = manager.runtime().followLogs(m.container(), tail)) {
                res.header("Content-Type", "text/plain; charset=utf-8");
                res.header("X-Accel-Buffering", "no");
                follow(req, in, res.outputStream());
            }
        } catch (DockerException e) {
            throw error(e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE ? 503 : 502,
                    e.kind() == DockerException.Kind.DAEMON_UNAVAILABLE ? "container_runtime_unavailable" : "logs_unavailable", e.getMessage());
        } catch (IOException e) {
            // closing the follow stream (try-with-resources) ended docker logs -f
        }
    }

    /**
     * Copies {@code docker logs -f} to the client until either side ends. A reader thread feeds a queue, so a quiet
     * container does not block the handler: after {@link #LOG_HEARTBEAT_MS} of silence an empty line is written,
     * which fails once the client has gone, and the caller then closes the stream (ending the docker child).
     */
    private void follow(ServerRequest req, InputStream in, OutputStream out) {
        BlockingQueue<byte[]> chunks = new java.util.concurrent.LinkedBlockingQueue<>(64);
        byte[] end = new byte[0];
        Thread reader = Thread.ofVirtual().name("logs-follow").start(() -> {
            byte[] buf = new byte[8192];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) chunks.put(java.util.Arrays.copyOf(buf, n));
            } catch (IOException | InterruptedException e) {
                // closed by the handler, or docker ended
            } finally {
                chunks.offer(end);
            }
        });
        try {
            while (!closed.getAsBoolean()) {
                byte[] c = chunks.poll(LOG_HEARTBEAT_MS, TimeUnit.MILLISECONDS);
                if (c == end) break;
                out.write(c == null ? "\n".getBytes(StandardCharsets.UTF_8) : c);
                out.flush();
            }
            out.close();
        } catch (IOException | UncheckedIOException | ServerConnectionException e) {
            reader.interrupt();
            throw left(req, "log follow", e); // the caller's try-with-resources closes docker logs -f on the way out
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            reader.interrupt();
        }
    }
}
