package dev.localai.tts.api.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The shared Prometheus text writer, counter family and histogram: the exact text both services serve. */
class PrometheusTextTest {
    @Test
    void labelsAreEscapedAndSamplesCarryThemInBraces() {
        assertThat(PrometheusText.labels("model", "a\"b\\c\nd", "reason", "idle"))
                .isEqualTo("model=\"a\\\"b\\\\c\\nd\",reason=\"idle\"");
        assertThat(PrometheusText.labels()).isEmpty();
        assertThat(PrometheusText.escape(null)).isEmpty();
        StringBuilder sb = new StringBuilder();
        PrometheusText.compact(sb).family("x_total", "Things.", "counter").sample("x_total", "", 3)
                .sample("x_total", "k=\"v\"", 4);
        assertThat(sb).hasToString("# HELP x_total Things.\n# TYPE x_total counter\nx_total 3\nx_total{k=\"v\"} 4\n");
    }

    @Test
    void compactNumbersDropTheFractionOfIntegersAndNeverUseExponents() {
        assertThat(PrometheusText.number(1)).isEqualTo("1");
        assertThat(PrometheusText.number(2.5)).isEqualTo("2.5");
        assertThat(PrometheusText.number(0.0001)).isEqualTo("0.0001");
        assertThat(PrometheusText.number(-3)).isEqualTo("-3");
        assertThat(PrometheusText.number(Double.NaN)).isEqualTo("NaN");
        assertThat(PrometheusText.of(new StringBuilder(), String::valueOf).format(1)).isEqualTo("1.0");
    }

    @Test
    void countersAreWrittenInLabelOrderWithTheirHeaderEvenWhenEmpty() {
        CounterFamily c = new CounterFamily();
        StringBuilder empty = new StringBuilder();
        c.render(PrometheusText.compact(empty), "r_total", "Requests.");
        assertThat(empty).hasToString("# HELP r_total Requests.\n# TYPE r_total counter\n");

        c.inc(PrometheusText.labels("status", "500"));
        c.inc(PrometheusText.labels("status", "200"));
        c.inc(PrometheusText.labels("status", "200"));
        assertThat(c.get(PrometheusText.labels("status", "200"))).isEqualTo(2);
        assertThat(c.get("nothing")).isZero();
        StringBuilder sb = new StringBuilder();
        c.render(PrometheusText.compact(sb), "r_total", "Requests.");
        assertThat(sb).hasToString("# HELP r_total Requests.\n# TYPE r_total counter\n"
                + "r_total{status=\"200\"} 2\nr_total{status=\"500\"} 1\n");
    }

    @Test
    void histogramsAreCumulativeInTheWritersNumberStyle() {
        Histogram h = new Histogram(0.5, 1, 2.5);
        h.observe(0.3);
        h.observe(1);
        h.observe(7);
        assertThat(h.count()).isEqualTo(3);
        assertThat(h.sum()).isEqualTo(8.3);

        StringBuilder compact = new StringBuilder();
        h.render(PrometheusText.compact(compact), "t_seconds", "");
        assertThat(compact).hasToString("t_seconds_bucket{le=\"0.5\"} 1\nt_seconds_bucket{le=\"1\"} 2\n"
                + "t_seconds_bucket{le=\"2.5\"} 2\nt_seconds_bucket{le=\"+Inf\"} 3\nt_seconds_sum 8.3\nt_seconds_count 3\n");

        StringBuilder java = new StringBuilder();
        h.render(PrometheusText.of(java, String::valueOf), "t_seconds", "model=\"a\"");
        assertThat(java).hasToString("t_seconds_bucket{model=\"a\",le=\"0.5\"} 1\n"
                + "t_seconds_bucket{model=\"a\",le=\"1.0\"} 2\nt_seconds_bucket{model=\"a\",le=\"2.5\"} 2\n"
                + "t_seconds_bucket{model=\"a\",le=\"+Inf\"} 3\nt_seconds_sum{model=\"a\"} 8.3\n"
                + "t_seconds_count{model=\"a\"} 3\n");
    }

    @Test
    void bucketBoundsMustAscend() {
        assertThatThrownBy(() -> new Histogram(1, 1)).isInstanceOf(IllegalArgumentException.class);
    }
}
