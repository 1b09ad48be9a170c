package dev.localai.tts.api.metrics;

import java.math.BigDecimal;
import java.util.function.DoubleFunction;

/**
 * Writes the Prometheus text exposition format (0.0.4) into a {@link StringBuilder}: one {@code # HELP} and
 * {@code # TYPE} header per family ({@link #family}), then its samples ({@link #sample}), {@code name{labels} value}.
 * Label sets are passed pre-rendered ({@link #labels}) so they can key a map; the empty string means none.
 *
 * <p>How a non-integer number is written is the writer's choice, so each service keeps the exact text it has always
 * served: {@link #compact} writes {@code 1}, {@code 2.5}, {@code 0.0001}; a service may pass its own style.
 */
public final class PrometheusText {
    private final StringBuilder out;
    private final DoubleFunction<String> numbers;

    private PrometheusText(StringBuilder out, DoubleFunction<String> numbers) {
        this.out = out;
        this.numbers = numbers;
    }

    /** A writer that formats numbers with {@link #number(double)}. */
    public static PrometheusText compact(StringBuilder out) {
        return new PrometheusText(out, PrometheusText::number);
    }

    /** A writer that formats fractional numbers (histogram bounds and sums, double samples) with {@code numbers}. */
    public static PrometheusText of(StringBuilder out, DoubleFunction<String> numbers) {
        return new PrometheusText(out, numbers);
    }

    /** A label set, {@code k1="v1",k2="v2"}, values escaped (backslash, quote, newline); pairs of key and value. */
    public static String labels(String... kv) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + 1 < kv.length; i += 2) {
            if (!sb.isEmpty()) {
                sb.append(',');
            }
            sb.append(kv[i]).append("=\"").append(escape(kv[i + 1])).append('"');
        }
        return sb.toString();
    }

    /** A label value escaped for the text format ({@code null} as empty). */
    public static String escape(String v) {
        return v == null ? "" : v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** Integral values without a fraction ({@code 3}), others in plain decimal ({@code 0.0001}), NaN as {@code NaN}. */
    public static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.isFinite(v) ? BigDecimal.valueOf(v).stripTrailingZeros().toPlainString() : "NaN";
    }

    /** The {@code # HELP} and {@code # TYPE} lines of a family ({@code counter}, {@code gauge}, {@code histogram}). */
    public PrometheusText family(String name, String help, String type) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type).append('\n');
        return this;
    }

    /** One sample, its value written as given. */
    public PrometheusText sample(String name, String labels, String value) {
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(value).append('\n');
        return this;
    }

    /** One sample with an integer value. */
    public PrometheusText sample(String name, String labels, long value) {
        return sample(name, labels, Long.toString(value));
    }

    /** One sample with a value in this writer's number style. */
    public PrometheusText sample(String name, String labels, double value) {
        return sample(name, labels, format(value));
    }

    /** A number in this writer's style. */
    public String format(double value) {
        return numbers.apply(value);
    }

    /** A one-sample family: the header and the value. */
    public PrometheusText single(String name, String help, String type, double value) {
        return family(name, help, type).sample(name, "", value);
    }
}
