package dev.localai.tts.server.ops;

import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.AudioModelList;
import dev.localai.tts.api.Json;
import dev.localai.tts.api.ModelList;
import dev.localai.tts.api.ModelObject;
import dev.localai.tts.core.engine.api.EngineHealth;
import dev.localai.tts.core.engine.api.ModelInfo;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.http.Routes;
import dev.localai.tts.server.metrics.Metrics;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Operations endpoints: {@code GET /health} (liveness: 200 while the process serves), {@code GET /health/ready}
 * (readiness: 503 until the model is loaded and warmed, with the reason, 200 after), {@code GET /metrics}
 * (Prometheus), and the model listings {@code GET /v1/models}, {@code GET /v1/models/{id}},
 * {@code GET /v1/audio/models}.
 */
public final class OpsService implements HttpService {
    /** 2025-12-15, Chatterbox Turbo's release: the {@code created} of the model objects. */
    private static final long CREATED = 1765756800L;

    private final ServerConfig config;
    private final EngineSupervisor engines;
    private final Metrics metrics;
    private final Lifecycle lifecycle;

    public OpsService(ServerConfig config, EngineSupervisor engines, Metrics metrics, Lifecycle lifecycle) {
        this.config = config;
        this.engines = engines;
        this.metrics = metrics;
        this.lifecycle = lifecycle;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get("/health", this::live)
                .get("/health/live", this::live)
                .get("/health/ready", this::ready)
                .get("/metrics", this::metrics)
                .get(Routes.MODELS, this::models)
                .get(Routes.MODELS + "/{id}", this::model)
                .get(Routes.AUDIO_MODELS, this::audioModels);
    }

    private void live(ServerRequest req, ServerResponse res) {
        json(res, 200, body(lifecycle.draining() ? "draining" : "ok"));
    }

    private void ready(ServerRequest req, ServerResponse res) {
        EngineSupervisor.Status s = engines.status();
        boolean ready = s.ready() && !lifecycle.draining();
        if (!ready) {
            res.header(HeaderNames.RETRY_AFTER, "5");
        }
        json(res, ready ? 200 : 503, body(ready ? "ready" : lifecycle.draining() ? "draining"
                : s.state().name().toLowerCase(java.util.Locale.ROOT)));
    }

    private Map<String, Object> body(String status) {
        EngineSupervisor.Status s = engines.status();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", status);
        m.put("state", s.state().name().toLowerCase(java.util.Locale.ROOT));
        m.put("detail", s.detail());
        SpeechSynthesizer e = engines.engineOrNull();
        if (e != null) {
            ModelInfo info = e.modelInfo();
            m.put("model", Map.of("id", info.id(), "source", info.source(), "device", info.device(),
                    "dtype", info.dtype(), "sample_rate", info.sampleRate()));
        }
        EngineHealth h = s.engine();
        if (h != null) {
            m.put("active_requests", h.activeRequests());
            m.put("queued_requests", h.queuedRequests());
            m.put("device_memory_used_bytes", h.deviceMemoryUsed());
            m.put("device_memory_total_bytes", h.deviceMemoryTotal());
        }
        m.put("in_flight", Math.max(0, lifecycle.inFlight() - 1)); // not counting this probe
        return m;
    }

    private void metrics(ServerRequest req, ServerResponse res) {
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        res.send(metrics.render());
    }

    private List<ModelObject> modelObjects() {
        return config.speech().models().stream()
                .map(id -> ModelObject.of(id, CREATED, id.equals("chatterbox-turbo") ? "resemble-ai" : "system"))
                .toList();
    }

    private void models(ServerRequest req, ServerResponse res) {
        json(res, 200, ModelList.of(modelObjects()));
    }

    private void model(ServerRequest req, ServerResponse res) {
        String id = req.path().pathParameters().get("id");
        ModelObject m = modelObjects().stream().filter(o -> o.id().equals(id)).findFirst()
                .orElseThrow(() -> ApiErrors.notFound("model", "model_not_found",
                        "The model '" + id + "' does not exist."));
        json(res, 200, m);
    }

    private void audioModels(ServerRequest req, ServerResponse res) {
        json(res, 200, AudioModelList.of(config.speech().models()));
    }

    private static void json(ServerResponse res, int status, Object body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Json.bytes(body));
    }
}
