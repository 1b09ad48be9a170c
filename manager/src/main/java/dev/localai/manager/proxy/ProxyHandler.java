package dev.localai.manager.proxy;

import static dev.localai.manager.error.ManagerErrors.error;

import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.error.ManagerErrors;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.config.ModelType;
import dev.localai.manager.fallback.RemoteTarget;
import dev.localai.manager.lifecycle.Lease;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.observe.Metrics;
import dev.localai.tts.api.ApiException;
import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Forwards an OpenAI request to the model named in it (or its fallbacks), streaming the response through
 * chunk by chunk. Failover happens only before the first response byte; a client disconnect cancels the
 * upstream request.
 */
public final class ProxyHandler {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager.proxy");
    private static final Set<String> HOP = Set.of("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
            "te", "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect", "authorization",
            "x-api-key", "http2-settings");

    private final ModelManager manager;
    private final ManagerConfig config;
    private final HttpClient client;
    private final Map<String, RemoteTarget> remotes;
    private final Metrics metrics;

    public ProxyHandler(ModelManager manager, HttpClient client, Map<String, RemoteTarget> remotes) {
        this.manager = manager;
        this.config = manager.config();
        this.client = client;
        this.remotes = remotes;
        this.metrics = manager.metrics();
    }

    /** Handles one OpenAI route; the body has been size-checked by the caller. */
    public void handle(ServerRequest req, ServerResponse res, String path, byte[] body) {
        long t0 = System.nanoTime();
        String contentType = req.headers().first(HeaderNames.CONTENT_TYPE).orElse("");
        String queryModel = req.query().contains("model") ? req.query().get("model") : null;
        Set<ModelType> types = ModelType.forPath(path);
        String requested = requestedModel(ModelExtractor.extract(contentType, body, queryModel), types, contentType, body);
        String endpoint = endpointLabel(path);
        String code = "500";
        String modelLabel = "";
        try {
            if (requested == null || requested.isBlank()) {
                if (ModelExtractor.malformedJson(contentType, body))
                    throw error(400, "invalid_json", "The request body is not valid JSON");
                throw error(400, "model_required", "The request names no model (JSON field, form field or ?model=)");
            }
            modelLabel = "unknown"; // never a client-chosen label
            ModelSpec spec = config.resolve(requested)
                    .orElseThrow(() -> error(404, "model_not_found", "The model '" + requested + "' does not exist"));
            modelLabel = spec.id();
            Set<ModelType> allowed = types;
            if (allowed != null && !allowed.contains(spec.type()))
                throw error(400, "unsupported_model_for_endpoint",
                        "Model '" + spec.id() + "' (" + spec.type().wire() + ") cannot serve " + path);
            List<String> targets = new ArrayList<>();
            targets.add(spec.id());
            targets.addAll(spec.fallback());
            ApiException last = null;
            for (int i = 0; i < targets.size(); i++) {
                boolean more = i + 1 < targets.size();
                String t = targets.get(i);
                try {
                    Outcome o = tryTarget(req, res, path, contentType, body, t, more, t0, endpoint);
                    if (o.committed) {
                        code = Integer.toString(o.status);
                        return;
                    }
                    last = o.error;
                } catch (ApiException e) {
                    if (!more || !ManagerErrors.fallThrough(e)) throw e;
                    LOG.fine(() -> "target " + t + " unavailable (" + ManagerErrors.code(e) + "), trying next fallback");
                    last = e;
                }
            }
            throw last != null ? last : error(503, "model_unavailable", "No target could serve '" + requested + "'");
        } catch (StreamAbort e) {
            code = e.status() + "_aborted";
            throw e;
        } catch (ApiException e) {
            code = Integer.toString(e.status());
            throw e; // answered by the server's error handler
        } finally {
            metrics.inc("manager_requests_total", "Proxied requests", Metrics.labels("model", modelLabel, "endpoint", endpoint, "code", code));
            metrics.observe("manager_request_seconds", "Proxied request duration", Metrics.labels("model", modelLabel, "endpoint", endpoint),
                    (System.nanoTime() - t0) / 1e9);
        }
    }

    /**
     * The model a request names, or for {@code /v1/audio/speech} without one the default TTS model (the design's
     * dashboard sends only {@code {"input": ...}}). Null or blank when neither exists.
     */
    private String requestedModel(String named, Set<ModelType> types, String contentType, byte[] body) {
        if (named != null && !named.isBlank()) return named;
        // only speech has an obvious default; the LLM endpoints keep OpenAI's rule that the model is required
        if (!Set.of(ModelType.TTS).equals(types) || ModelExtractor.malformedJson(contentType, body)) return named;
        return config.defaultFor(ModelType.TTS).map(ModelSpec::id).orElse(named);
    }

    /**
     * {@code /upstream/{model}/...}: any method and path, sent unchanged to the model's own server (started on
     * demand, counted in flight like any request, no type gating, no fallback).
     */
    public void passthrough(ServerRequest req, ServerResponse res, String model, String rawSubPath, byte[] body) {
        long t0 = System.nanoTime();
        String code = "500";
        String label = model;
        try {
            ModelSpec spec = config.resolve(model)
                    .orElseThrow(() -> error(404, "model_not_found", "The model '" + model + "' does not exist"));
            label = spec.id();
            URI uri;
            try {
                uri = URI.create(spec.upstream() + (rawSubPath.startsWith("/") ? rawSubPath : "/" + rawSubPath) + query(req));
            } catch (IllegalArgumentException e) {
                throw error(400, "invalid_path", "Not a valid upstream path: " + rawSubPath);
            }
            try (Lease lease = manager.acquire(spec.id(), spec.queueTimeout())) {
                Outcome o = forward(req, res, uri, body, lease, spec.id(), false, t0, "upstream");
                if (!o.committed) throw o.error;
                code = Integer.toString(o.status);
            }
        } catch (StreamAbort e) {
            code = e.status() + "_aborted";
            throw e;
        } catch (ApiException e) {
            code = Integer.toString(e.status());
            throw e; // answered by the server's error handler
        } finally {
            metrics.inc("manager_requests_total", "Proxied requests", Metrics.labels("model", label, "endpoint", "upstream", "code", code));
        }
    }

    private record Outcome(boolean committed, int status, ApiException error) {}

    private Outcome tryTarget(ServerRequest req, ServerResponse res, String path, String contentType, byte[] body,
                              String target, boolean more, long t0, String endpoint) {
        RemoteTarget remote = remotes.get(target);
        if (remote != null) {
            if (!remote.tryAcquire())
                return new Outcome(false, 0, error(503, "upstream_unavailable", "Fallback " + target + " is unavailable (circuit open)", 5));
            Outcome o;
            try {
                o = forward(req, res, URI.create(remote.remote().url() + path + query(req)), body, null, target, more, t0, endpoint);
            } catch (StreamAbort e) {
                remote.success(); // it answered; the stream broke later (or the client left): not a reason to open the breaker
                throw e;
            }
            if (o.committed && o.status < 500) remote.success();
            else if (o.committed || (o.error != null && !"upstream_busy".equals(ManagerErrors.code(o.error)))) remote.failure();
            else remote.success();
            return o;
        }
        ModelSpec spec = config.resolve(target).orElseThrow(() -> error(404, "model_not_found", target));
        byte[] fwd = ModelExtractor.rewriteModel(contentType, body, spec.upstreamModel());
        try (Lease lease = manager.acquire(spec.id(), spec.queueTimeout())) {
            URI uri = URI.create(spec.upstream() + path + query(req));
            Outcome o = forward(req, res, uri, fwd, lease, spec.id(), more, t0, endpoint);
            if (!o.committed && o.error != null && "upstream_unreachable".equals(ManagerErrors.code(o.error))) {
                Thread.ofVirtual().start(() -> manager.checkNow(spec.id()));
            }
            return o;
        }
    }

    private static String query(ServerRequest req) {
        String q = req.query().rawValue();
        return q == null || q.isEmpty() ? "" : "?" + q;
    }

    private Outcome forward(ServerRequest req, ServerResponse res, URI uri, byte[] body, Lease lease, String target,
                            boolean more, long t0, String endpoint) {
        HttpRequest.Builder b = HttpRequest.newBuilder(uri).timeout(config.server().upstreamResponseTimeout())
                .method(req.prologue().method().text(),
                body.length == 0 ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        for (Header h : req.headers()) {
            String n = h.name().toLowerCase(Locale.ROOT);
            // Origin and Sec-Fetch-* stay here: the manager has applied the cross-site rule to them already, and the
            // model server is called by the manager, not by the browser (docs/security.md)
            if (HOP.contains(n) || n.startsWith("x-forwarded") || n.equals("x-request-id") || n.equals("origin")
                    || n.startsWith("sec-fetch-")) {
                continue;
            }
            for (String v : h.allValues()) {
                try {
                    b.header(h.name(), v);
                } catch (IllegalArgumentException e) {
                    // restricted header (the client sets it)
                }
            }
        }
        String rid = RequestIds.of(req);
        b.header("X-Request-Id", rid);
        b.header("X-Forwarded-For", req.remotePeer().host());
        CompletableFuture<HttpResponse<InputStream>> f = client.sendAsync(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        if (lease != null) lease.onCancel(() -> f.cancel(true));
        HttpResponse<InputStream> up;
        try {
            up = f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            f.cancel(true);
            return new Outcome(false, 0, error(502, "upstream_unreachable", "interrupted"));
        } catch (CancellationException e) {
            return new Outcome(false, 0, error(503, "model_unavailable", "Model '" + target + "' stopped before answering", 5));
        } catch (ExecutionException e) {
            Throwable c = e.getCause();
            if (c instanceof java.net.http.HttpTimeoutException && !(c instanceof java.net.http.HttpConnectTimeoutException)) {
                f.cancel(true);
                return new Outcome(false, 0, error(504, "upstream_timeout", "'" + target + "' did not answer within "
                        + config.server().upstreamResponseTimeout().toSeconds() + " s"));
            }
            String msg = c instanceof ConnectException ? "connection refused" : "connection failed";
            LOG.log(Level.FINE, "cannot reach " + target, c);
            return new Outcome(false, 0, error(502, "upstream_unreachable", "Cannot reach '" + target + "': " + msg));
        }
        InputStream upstreamBody = up.body();
        if (lease != null) lease.onCancel(() -> closeQuietly(upstreamBody)); // wakes a blocked read: the stream is cut
        int status = up.statusCode();
        if (more && (status == 502 || status == 503 || status == 504)) {
            closeQuietly(up.body());
            return new Outcome(false, 0, error(status, status == 503 ? "upstream_busy" : "upstream_unreachable",
                    "'" + target + "' answered " + status));
        }
        res.status(status);
        String ct = "";
        for (Map.Entry<String, List<String>> h : up.headers().map().entrySet()) {
            String n = h.getKey().toLowerCase(Locale.ROOT);
            if (HOP.contains(n) || n.equals(":status")) continue;
            if (n.equals("content-type")) ct = h.getValue().isEmpty() ? "" : h.getValue().get(0);
            res.header(h.getKey(), h.getValue().toArray(String[]::new));
        }
        res.header("X-Served-By", target);
        if (ct.toLowerCase(Locale.ROOT).startsWith("text/event-stream")) {
            res.header("X-Accel-Buffering", "no");
            res.header("Cache-Control", "no-cache");
        }
        boolean firstByte = true;
        try (InputStream in = upstreamBody) {
            OutputStream out;
            out = res.outputStream();
            byte[] buf = new byte[16384];
            int n;
            while (true) {
                try {
                    n = in.read(buf);
                } catch (IOException e) {
                    // upstream died or the model was stopped mid-stream: the client must see a cut, not a clean end
                    LOG.log(Level.FINE, "upstream " + target + " broke off mid-response", e);
                    metrics.inc("manager_upstream_aborts_total", "Responses cut because the upstream stopped mid-stream",
                            Metrics.labels("model", target));
                    throw new StreamAbort("upstream " + target + " broke off mid-response", status, e);
                }
                if (n < 0) break;
                if (n == 0) continue;
                if (firstByte) {
                    firstByte = false;
                    metrics.observe("manager_time_to_first_byte_seconds", "Time to the first response byte",
                            Metrics.labels("model", target, "endpoint", endpoint), (System.nanoTime() - t0) / 1e9);
                }
                out.write(buf, 0, n);
                out.flush();
            }
            out.close();
        } catch (IOException | RuntimeException e) {
            if (e instanceof StreamAbort abort) throw abort;
            // client went away (the server reports it as an unchecked connection exception): closing the upstream
            // body (try-with-resources) cancels the upstream request
            f.cancel(true);
            LOG.fine(() -> "client disconnected from " + target + ": upstream cancelled");
            metrics.inc("manager_client_disconnects_total", "Client disconnects mid-response", Metrics.labels("model", target));
            throw new StreamAbort("client disconnected from " + target, status, e);
        }
        return new Outcome(true, status, null);
    }

    /**
     * Thrown out of the handler when the upstream breaks off after the response started: the web server then
     * drops the connection instead of terminating the chunked body cleanly.
     */
    public static final class StreamAbort extends CloseConnectionException {
        private final int status;

        StreamAbort(String message, int status, Throwable cause) {
            super(message, cause);
            this.status = status;
        }

        /** The status already sent to the client. */
        public int status() {
            return status;
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // ignore
        }
    }

    static String endpointLabel(String path) {
        return path.startsWith("/v1/") ? path : "other";
    }
}
