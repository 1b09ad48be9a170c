package dev.localai.manager.observe;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/** A tiny Prometheus registry: labelled counters and fixed-bucket histograms, rendered in text format 0.0.4. */
public final class Metrics {
    private static final double[] BUCKETS = {0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600};

    private final Map<String, String> help = new ConcurrentHashMap<>();
    private final Map<String, Map<String, LongAdder>> counters = new ConcurrentHashMap<>();
    private final Map<String, Map<String, Histo>> histograms = new ConcurrentHashMap<>();

    private static final class Histo {
        final LongAdder[] buckets = new LongAdder[BUCKETS.length];
        final LongAdder count = new LongAdder();
        final DoubleAdder sum = new DoubleAdder();

        Histo() {
            for (int i = 0; i < buckets.length; i++) buckets[i] = new LongAdder();
        }
    }

    /** Label set rendered as {@code k1="v1",k2="v2"} (values escaped). */
    public static String labels(String... kv) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (!sb.isEmpty()) sb.append(',');
            sb.append(kv[i]).append("=\"").append(escape(kv[i + 1])).append('"');
        }
        return sb.toString();
    }

    static String escape(String v) {
        return v == null ? "" : v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    public void inc(String name, String help, String labels) {
        this.help.putIfAbsent(name, help);
        counters.computeIfAbsent(name, k -> new ConcurrentHashMap<>()).computeIfAbsent(labels, k -> new LongAdder()).increment();
    }

    public long counter(String name, String labels) {
        Map<String, LongAdder> m = counters.get(name);
        LongAdder a = m == null ? null : m.get(labels);
        return a == null ? 0 : a.sum();
    }

    public void observe(String name, String help, String labels, double seconds) {
        this.help.putIfAbsent(name, help);
        Histo h = histograms.computeIfAbsent(name, k -> new ConcurrentHashMap<>()).computeIfAbsent(labels, k -> new Histo());
        for (int i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.buckets[i].increment();
        h.count.increment();
        h.sum.add(seconds);
    }

    /** Appends counters and histograms to {@code out}. */
    public void render(StringBuilder out) {
        for (String name : new TreeMap<>(counters).keySet()) {
            out.append("# HELP ").append(name).append(' ').append(help.getOrDefault(name, name)).append('\n');
            out.append("# TYPE ").append(name).append(" counter\n");
            new TreeMap<>(counters.get(name)).forEach((l, v) -> out.append(name).append(l.isEmpty() ? "" : "{" + l + "}")
                    .append(' ').append(v.sum()).append('\n'));
        }
        for (String name : new TreeMap<>(histograms).keySet()) {
            out.append("# HELP ").append(name).append(' ').append(help.getOrDefault(name, name)).append('\n');
            out.append("# TYPE ").append(name).append(" histogram\n");
            new TreeMap<>(histograms.get(name)).forEach((l, h) -> {
                String sep = l.isEmpty() ? "" : l + ",";
                for (int i = 0; i < BUCKETS.length; i++)
                    out.append(name).append("_bucket{").append(sep).append("le=\"").append(BUCKETS[i]).append("\"} ").append(h.buckets[i].sum()).append('\n');
                out.append(name).append("_bucket{").append(sep).append("le=\"+Inf\"} ").append(h.count.sum()).append('\n');
                out.append(name).append("_sum").append(l.isEmpty() ? "" : "{" + l + "}").append(' ').append(h.sum.sum()).append('\n');
                out.append(name).append("_count").append(l.isEmpty() ? "" : "{" + l + "}").append(' ').append(h.count.sum()).append('\n');
            });
        }
    }

    /** Helper for gauges computed at scrape time. */
    public static void gauge(StringBuilder out, String name, String help, Map<String, ? extends Number> values) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        values.forEach((l, v) -> out.append(name).append(l.isEmpty() ? "" : "{" + l + "}").append(' ').append(v).append('\n'));
    }
}
