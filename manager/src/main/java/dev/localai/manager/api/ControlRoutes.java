package dev.localai.manager.api;


import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.lifecycle.GamingResult;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.tts.api.ApiException;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.time.Duration;
import java.util.List;

/** The control plane (admin key): gaming mode, start/stop/swap, stop-all and unload. */
final class ControlRoutes {
    private final ModelManager manager;
    private final ManagerConfig config;

    ControlRoutes(ModelManager manager) {
        this.manager = manager;
        this.config = manager.config();
    }

    void register(HttpRouting.Builder r, ManagerServer.Guard guard) {
        r.post("/gaming-mode", guard.wrap(Auth.Level.ADMIN, this::gamingMode));
        r.post("/stop-all", guard.wrap(Auth.Level.ADMIN, (req, res) -> Json.send(res, 200,
                Json.obj("success", true, "stopped", manager.stopAll("manual", RequestParams.waitParam(req, 120))))));
        r.post("/start/{id}", guard.wrap(Auth.Level.ADMIN, (req, res) -> {
            String id = RequestParams.modelId(req, config);
            try {
                manager.start(id, RequestParams.waitParam(req, 600));
            } catch (ApiException e) {
                if (e.status() != 504 || manager.view(id).state() != ModelState.STARTING) throw e;
                // the wait ended, the start goes on
                Json.send(res, 202, Json.obj("success", true, "model", id, "status", "starting", "state", manager.view(id).state().wire()));
                return;
            }
            Json.send(res, 200, Json.obj("success", true, "model", id, "status", "running", "state", manager.view(id).state().wire()));
        }));
        r.post("/stop/{id}", guard.wrap(Auth.Level.ADMIN, (req, res) -> {
            String id = RequestParams.modelId(req, config);
            boolean ok = manager.stop(id, "manual", RequestParams.waitParam(req, 120));
            Json.send(res, ok ? 200 : 202, Json.obj("success", ok, "model", id, "status", manager.view(id).state().wire()));
        }));
        r.post("/swap/{id}", guard.wrap(Auth.Level.ADMIN, (req, res) -> {
            String id = RequestParams.modelId(req, config);
            List<String> stopped = manager.swap(id, RequestParams.waitParam(req, 600));
            Json.send(res, 200, Json.obj("success", true, "model", id, "stopped", stopped));
        }));
        r.post("/api/models/unload", guard.wrap(Auth.Level.ADMIN, (req, res) -> Json.send(res, 200,
                Json.obj("success", true, "stopped", manager.stopAll("unload", RequestParams.waitParam(req, 120))))));
        r.get("/unload", guard.wrap(Auth.Level.ADMIN, (req, res) -> Json.send(res, 200,
                Json.obj("success", true, "stopped", manager.stopAll("unload", RequestParams.waitParam(req, 120))))));
        r.post("/api/models/unload/{id}", guard.wrap(Auth.Level.ADMIN, (req, res) -> {
            String id = RequestParams.modelId(req, config);
            boolean ok = manager.stop(id, "unload", RequestParams.waitParam(req, 120));
            Json.send(res, ok ? 200 : 202, Json.obj("success", ok, "model", id));
        }));
    }

    private void gamingMode(ServerRequest req, ServerResponse res) throws IOException {
        Boolean enable = null;
        if (req.query().contains("enable")) enable = RequestParams.parseBool(req.query().get("enable"));
        else {
            byte[] b = RequestParams.body(req, config.server().maxRequestBodyBytes());
            if (b.length > 0) {
                var n = dev.localai.tts.api.Json.MAPPER.readTree(b);
                String key = n == null ? null : n.has("enable") ? "enable" : n.has("enabled") ? "enabled" : null;
                if (key != null) enable = n.get(key).isBoolean() ? n.get(key).asBoolean() : RequestParams.parseBool(n.get(key).asText());
            }
        }
        if (enable == null) enable = true; // the ancestor's default: a bare POST /gaming-mode turns it on
        boolean force = RequestParams.flag(req, "force");
        GamingResult r;
        if (enable) {
            Duration wait = req.query().contains("wait_s") ? RequestParams.waitParam(req, 0)
                    : config.gaming().drainTimeout().plus(Duration.ofSeconds(60));
            r = manager.gamingOn(force, wait);
        } else {
            r = manager.gamingOff();
            if (RequestParams.flag(req, "wait")) {
                manager.awaitCondition(vs -> vs.stream().filter(v -> v.spec().keepWarm())
                        .allMatch(v -> v.state() == ModelState.READY || v.state() == ModelState.FAILED), RequestParams.waitParam(req, 600));
            }
        }
        String message = enable ? "Gaming mode enabled. " + (r.safeToGame() ? "All GPU models stopped."
                : "Not yet safe to game: " + r.unsafeReason() + ".")
                : "Gaming mode disabled. Keep-warm models are starting; others start on demand.";
        Json.send(res, enable ? 200 : 202, Json.obj("success", true, "gaming_mode", r.gamingMode(), "safe_to_game", r.safeToGame(),
                "safe_to_game_reason", r.unsafeReason(), "message", message,
                "stopped_models", r.stoppedModels(), "vram_used_mb", r.vramUsedMb(), "took_ms", r.tookMs(),
                "persisted", r.persisted()));
    }

}
