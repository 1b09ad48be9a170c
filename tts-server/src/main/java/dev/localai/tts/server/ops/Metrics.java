package dev.localai.tts.server.ops;

import dev.localai.tts.core.engine.api.EngineHealth;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The server's Prometheus metrics: requests by route and status, errors by type, syntheses, time to first audio,
 * real-time factor, audio produced, in-flight requests, client disconnects, and the engine's queue depth and device
 * memory. Rendered in the text exposition format 0.0.4. Thread-safe.
 */
public final class Metrics {
    private static final double[] TTFA_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double[] RTF_BUCKETS = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5};

    private final Map<String, LongAdder> requests = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> errors = new ConcurrentHashMap<>();
    private final Map<String, LongAdder> syntheses = new ConcurrentHashMap<>();
    private final Histogram ttfa = new Histogram(TTFA_BUCKETS);
    private final Histogram rtf = new Histogram(RTF_BUCKETS);
    private final DoubleAdder audioSeconds = new DoubleAdder();
    private final LongAdder disconnects = new LongAdder();
    private final AtomicLong inFlight = new AtomicLong();
    private final Supplier<EngineHealth> health;
    private volatile java.util.function.LongSupplier uploads = () -> 0;

    /** @param health the engine's health, or {@code null} while there is no engine */
    public Metrics(Supplier<EngineHealth> health) {
        this.health = health;
    }

    /** Counts a finished HTTP request. */
    public void request(String route, String method, int status) {
        requests.computeIfAbsent(labels("route", route, "method", method, "status", Integer.toString(status)),
                k -> new LongAdder()).increment();
    }

    /** Counts an error answered with the OpenAI envelope. */
    public void error(String type, int status) {
        errors.computeIfAbsent(labels("type", type, "status", Integer.toString(status)), k -> new LongAdder())
                .increment();
    }

    /**
     * Records a finished synthesis.
     *
     * @param mode            {@code stream}, {@code sse} or {@code file}
     * @param format          response format
     * @param ttfaSeconds     time to the first audio bytes
     * @param rtfValue        generation time / audio duration
     * @param audio           seconds of audio
     */
    public void synthesis(String mode, String format, double ttfaSeconds, double rtfValue, double audio) {
        syntheses.computeIfAbsent(labels("mode", mode, "format", format), k -> new LongAdder()).increment();
        ttfa.observe(ttfaSeconds);
        if (audio > 0) {
            rtf.observe(rtfValue);
        }
        audioSeconds.add(audio);
    }

    /** Counts a client that went away mid-response (its generation was cancelled). */
    public void disconnect() {
        disconnects.increment();
    }

    /** Where the number of voice uploads holding a place comes from. */
    public void uploadsInProgress(java.util.function.LongSupplier source) {
        this.uploads = source;
    }

    /** The in-flight gauge, shared with the request filter. */
    public AtomicLong inFlight() {
        return inFlight;
    }

    /** The exposition text. */
    public String render() {
        StringBuilder sb = new StringBuilder(4096);
        counter(sb, "tts_http_requests_total", "HTTP requests by route, method and status.", requests);
        counter(sb, "tts_errors_total", "Error responses by OpenAI error type and status.", errors);
        counter(sb, "tts_syntheses_total", "Finished syntheses by mode and format.", syntheses);
        ttfa.render(sb, "tts_time_to_first_audio_seconds", "Time from request to the first audio bytes.");
        rtf.render(sb, "tts_real_time_factor", "Generation time divided by audio duration (lower is faster).");
        gauge(sb, "tts_audio_seconds_total", "Seconds of audio produced.", "counter", audioSeconds.sum());
        gauge(sb, "tts_client_disconnects_total", "Responses abandoned by the client (generation cancelled).",
                "counter", disconnects.sum());
        gauge(sb, "tts_http_in_flight_requests", "HTTP requests being handled.", "gauge", inFlight.get());
        gauge(sb, "tts_voice_uploads_in_progress", "Voice uploads holding a place (server.max-uploads).", "gauge",
                uploads.getAsLong());
        EngineHealth h = health == null ? null : health.get();
        gauge(sb, "tts_engine_ready", "1 when the model is loaded and warmed.", "gauge", h != null && h.ready() ? 1 : 0);
        if (h != null) {
            gauge(sb, "tts_engine_active_requests", "Syntheses running.", "gauge", h.activeRequests());
            gauge(sb, "tts_engine_queue_depth", "Requests waiting for a synthesis slot.", "gauge", h.queuedRequests());
            if (h.deviceMemoryUsed() >= 0) {
                gauge(sb, "tts_device_memory_used_bytes", "Device memory in use (GPU, or resident memory on CPU).",
                        "gauge", h.deviceMemoryUsed());
            }
            if (h.deviceMemoryTotal() >= 0) {
                gauge(sb, "tts_device_memory_total_bytes", "Device memory in total.", "gauge", h.deviceMemoryTotal());
            }
        }
        return sb.toString();
    }

    private static void counter(StringBuilder sb, String name, String help, Map<String, LongAdder> series) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(" counter\n");
        new TreeMap<>(series).forEach((l, v) -> sb.append(name).append(l).append(' ').append(v.sum()).append('\n'));
    }

    private static void gauge(StringBuilder sb, String name, String help, String type, double value) {
        sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
        sb.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        sb.append(name).append(' ').append(num(value)).append('\n');
    }

    private static String labels(String... kv) {
        StringBuilder sb = new StringBuilder("{");
        for (int i = 0; i < kv.length; i += 2) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(kv[i]).append("=\"").append(kv[i + 1].replace("\\", "\\\\").replace("\"", "\\\"")
                    .replace("\n", "\\n")).append('"');
        }
        return sb.append('}').toString();
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e15 ? Long.toString((long) v) : Double.isFinite(v) ? java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString() : "NaN";
    }

    /** A cumulative histogram with fixed buckets. */
    private static final class Histogram {
        private final double[] bounds;
        private final LongAdder[] counts;
        private final DoubleAdder sum = new DoubleAdder();
        private final LongAdder count = new LongAdder();

        Histogram(double[] bounds) {
            this.bounds = bounds.clone();
            this.counts = new LongAdder[bounds.length];
            for (int i = 0; i < bounds.length; i++) {
                counts[i] = new LongAdder();
            }
        }

        void observe(double v) {
            for (int i = 0; i < bounds.length; i++) {
                if (v <= bounds[i]) {
                    counts[i].increment();
                }
            }
            sum.add(v);
            count.increment();
        }

        void render(StringBuilder sb, String name, String help) {
            sb.append("# HELP ").append(name).append(' ').append(help).append('\n');
            sb.append("# TYPE ").append(name).append(" histogram\n");
            for (int i = 0; i < bounds.length; i++) {
                sb.append(name).append("_bucket{le=\"").append(num(bounds[i])).append("\"} ").append(counts[i].sum())
                        .append('\n');
            }
            sb.append(name).append("_bucket{le=\"+Inf\"} ").append(count.sum()).append('\n');
            sb.append(name).append("_sum ").append(num(sum.sum())).append('\n');
            sb.append(name).append("_count ").append(count.sum()).append('\n');
        }
    }
}
