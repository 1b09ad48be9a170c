package dev.localai.tts.server.metrics;

import dev.localai.tts.api.metrics.CounterFamily;
import dev.localai.tts.api.metrics.Histogram;
import dev.localai.tts.api.metrics.PrometheusText;
import dev.localai.tts.core.engine.api.EngineHealth;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * The server's Prometheus metrics: requests by route and status, errors by type, syntheses, time to first audio,
 * real-time factor, audio produced (and how much of it streaming made the cheaper way), in-flight requests, client
 * disconnects, and the engine's queue depth and device memory. Rendered in the text exposition format 0.0.4 with
 * tts-api's shared writer ({@link PrometheusText}). Thread-safe.
 */
public final class Metrics {
    private static final double[] TTFA_BUCKETS = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    private static final double[] RTF_BUCKETS = {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5};

    private final CounterFamily requests = new CounterFamily();
    private final CounterFamily errors = new CounterFamily();
    private final CounterFamily syntheses = new CounterFamily();
    private final Histogram ttfa = new Histogram(TTFA_BUCKETS);
    private final Histogram rtf = new Histogram(RTF_BUCKETS);
    private final DoubleAdder audioSeconds = new DoubleAdder();
    private final DoubleAdder cheaperAudioSeconds = new DoubleAdder();
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
        requests.inc(PrometheusText.labels("route", route, "method", method, "status", Integer.toString(status)));
    }

    /** Counts an error answered with the OpenAI envelope. */
    public void error(String type, int status) {
        errors.inc(PrometheusText.labels("type", type, "status", Integer.toString(status)));
    }

    /**
     * Records a finished synthesis.
     *
     * @param mode            {@code stream}, {@code sse} or {@code file}
     * @param format          response format
     * @param ttfaSeconds     time to the first audio bytes
     * @param rtfValue        generation time / audio duration
     * @param audio           seconds of audio
     * @param cheaperAudio    seconds of it that streaming made the cheaper way
     *                        ({@code SynthesisStats#cheaperAudioSeconds})
     */
    public void synthesis(String mode, String format, double ttfaSeconds, double rtfValue, double audio,
                          double cheaperAudio) {
        syntheses.inc(PrometheusText.labels("mode", mode, "format", format));
        ttfa.observe(ttfaSeconds);
        if (audio > 0) {
            rtf.observe(rtfValue);
        }
        audioSeconds.add(audio);
        cheaperAudioSeconds.add(cheaperAudio);
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
        PrometheusText out = PrometheusText.compact(sb);
        requests.render(out, "tts_http_requests_total", "HTTP requests by route, method and status.");
        errors.render(out, "tts_errors_total", "Error responses by OpenAI error type and status.");
        syntheses.render(out, "tts_syntheses_total", "Finished syntheses by mode and format.");
        histogram(out, ttfa, "tts_time_to_first_audio_seconds", "Time from request to the first audio bytes.");
        histogram(out, rtf, "tts_real_time_factor", "Generation time divided by audio duration (lower is faster).");
        out.single("tts_audio_seconds_total", "Seconds of audio produced.", "counter", audioSeconds.sum());
        out.single("tts_cheaper_audio_seconds_total", "Seconds of streamed audio whose flow ran on less of the voice "
                + "prompt or in fewer solver steps, so first audio met its target or a real-time listener did not wait "
                + "(0 with TTS_FIRST_AUDIO_TARGET_MS=0).", "counter", cheaperAudioSeconds.sum());
        out.single("tts_client_disconnects_total", "Responses abandoned by the client (generation cancelled).",
                "counter", disconnects.sum());
        out.single("tts_http_in_flight_requests", "HTTP requests being handled.", "gauge", inFlight.get());
        out.single("tts_voice_uploads_in_progress", "Voice uploads holding a place (server.max-uploads).", "gauge",
                uploads.getAsLong());
        EngineHealth h = health == null ? null : health.get();
        out.single("tts_engine_ready", "1 when the model is loaded and warmed.", "gauge",
                h != null && h.ready() ? 1 : 0);
        if (h != null) {
            out.single("tts_engine_active_requests", "Syntheses running.", "gauge", h.activeRequests());
            out.single("tts_engine_queue_depth", "Requests waiting for a synthesis slot.", "gauge",
                    h.queuedRequests());
            if (h.deviceMemoryUsed() >= 0) {
                out.single("tts_device_memory_used_bytes", "Device memory in use (GPU, or resident memory on CPU).",
                        "gauge", h.deviceMemoryUsed());
            }
            if (h.deviceMemoryTotal() >= 0) {
                out.single("tts_device_memory_total_bytes", "Device memory in total.", "gauge",
                        h.deviceMemoryTotal());
            }
        }
        return sb.toString();
    }

    private static void histogram(PrometheusText out, Histogram h, String name, String help) {
        out.family(name, help, "histogram");
        h.render(out, name, "");
    }
}
