package dev.localai.tts.api.metrics;

import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;

/**
 * A cumulative histogram with fixed upper bounds: each observation counts in every bucket whose bound it does not
 * exceed, plus {@code +Inf}, with the running sum and count. Thread-safe.
 */
public final class Histogram {
    private final double[] bounds;
    private final LongAdder[] buckets;
    private final LongAdder count = new LongAdder();
    private final DoubleAdder sum = new DoubleAdder();

    /** @param bounds the buckets' upper bounds, ascending */
    public Histogram(double... bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (!(bounds[i] > bounds[i - 1])) {
                throw new IllegalArgumentException("bucket bounds must ascend");
            }
        }
        this.bounds = bounds.clone();
        this.buckets = new LongAdder[bounds.length];
        for (int i = 0; i < buckets.length; i++) {
            buckets[i] = new LongAdder();
        }
    }

    public void observe(double v) {
        for (int i = 0; i < bounds.length; i++) {
            if (v <= bounds[i]) {
                buckets[i].increment();
            }
        }
        count.increment();
        sum.add(v);
    }

    public long count() {
        return count.sum();
    }

    public double sum() {
        return sum.sum();
    }

    /**
     * Writes the samples (no header: a family may hold several label sets): {@code name_bucket} per bound and
     * {@code +Inf}, then {@code name_sum} and {@code name_count}, each with {@code labels} ({@code ""} for none).
     */
    public void render(PrometheusText out, String name, String labels) {
        String sep = labels.isEmpty() ? "" : labels + ",";
        long n = count.sum();
        for (int i = 0; i < bounds.length; i++) {
            out.sample(name + "_bucket", sep + "le=\"" + out.format(bounds[i]) + "\"", buckets[i].sum());
        }
        out.sample(name + "_bucket", sep + "le=\"+Inf\"", n);
        out.sample(name + "_sum", labels, sum.sum());
        out.sample(name + "_count", labels, n);
    }
}
