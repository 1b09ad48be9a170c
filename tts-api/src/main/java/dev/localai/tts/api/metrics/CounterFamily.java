package dev.localai.tts.api.metrics;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** A counter with label sets ({@link PrometheusText#labels}), written in label order. Thread-safe. */
public final class CounterFamily {
    private final Map<String, LongAdder> series = new ConcurrentHashMap<>();

    /** Adds one to the series of {@code labels} ({@code ""} for none). */
    public void inc(String labels) {
        series.computeIfAbsent(labels, k -> new LongAdder()).increment();
    }

    /** The count of a series (0 when it never counted). */
    public long get(String labels) {
        LongAdder a = series.get(labels);
        return a == null ? 0 : a.sum();
    }

    /** The header and every series; the header alone when nothing was counted yet. */
    public void render(PrometheusText out, String name, String help) {
        out.family(name, help, "counter");
        new TreeMap<>(series).forEach((labels, v) -> out.sample(name, labels, v.sum()));
    }
}
