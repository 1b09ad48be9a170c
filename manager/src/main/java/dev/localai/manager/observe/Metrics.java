package dev.localai.manager.observe;

import dev.localai.tts.api.metrics.CounterFamily;
import dev.localai.tts.api.metrics.Histogram;
import dev.localai.tts.api.metrics.PrometheusText;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The manager's Prometheus registry: counters and fixed-bucket histograms created on first use by name, rendered in
 * text format 0.0.4 with tts-api's shared writer ({@link PrometheusText}). Fractional numbers keep the manager's
 * long-standing style ({@code le="1.0"}).
 */
public final class Metrics {
    private static final double[] BUCKETS = {0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

    private final Map<String, String> help = new ConcurrentHashMap<>();
    private final Map<String, CounterFamily> counters = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Histogram>> histograms = new ConcurrentHashMap<>();

    /** Label set rendered as {@code k1="v1",k2="v2"} (values escaped). */
    public static String labels(String... kv) {
        return PrometheusText.labels(kv);
    }

    /** The manager's text writer over {@code out}. */
    public static PrometheusText writer(StringBuilder out) {
        return PrometheusText.of(out, String::valueOf);
    }

    public void inc(String name, String help, String labels) {
        this.help.putIfAbsent(name, help);
        counters.computeIfAbsent(name, k -> new CounterFamily()).inc(labels);
    }

    public long counter(String name, String labels) {
        CounterFamily c = counters.get(name);
        return c == null ? 0 : c.get(labels);
    }

    public void observe(String name, String help, String labels, double seconds) {
        this.help.putIfAbsent(name, help);
        histograms.computeIfAbsent(name, k -> new ConcurrentHashMap<>())
                .computeIfAbsent(labels, k -> new Histogram(BUCKETS)).observe(seconds);
    }

    /** Appends counters and histograms to {@code out}. */
    public void render(StringBuilder out) {
        PrometheusText w = writer(out);
        new TreeMap<>(counters).forEach((name, c) -> c.render(w, name, help.getOrDefault(name, name)));
        new TreeMap<>(histograms).forEach((name, series) -> {
            w.family(name, help.getOrDefault(name, name), "histogram");
            new TreeMap<>(series).forEach((l, h) -> h.render(w, name, l));
        });
    }

    /** Helper for gauges computed at scrape time. */
    public static void gauge(StringBuilder out, String name, String help, Map<String, ? extends Number> values) {
        PrometheusText w = writer(out).family(name, help, "gauge");
        values.forEach((l, v) -> w.sample(name, l, String.valueOf(v)));
    }
}
