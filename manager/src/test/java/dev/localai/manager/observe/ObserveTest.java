package dev.localai.manager.observe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.concurrent.BlockingQueue;
import org.junit.jupiter.api.Test;

/** The event fan-out and the Prometheus text rendering. */
class ObserveTest {
    @Test
    void aSlowSubscriberLosesItsOldestEventsAndNeverBlocksThePublisher() {
        EventBus bus = new EventBus();
        BlockingQueue<Event> q = bus.subscribe();
        for (int i = 0; i < 1500; i++) bus.publish("state", "m", "i", i, "skipped", null);
        assertThat(q).hasSize(1024);
        Event first = q.peek();
        assertThat(first.data()).containsEntry("i", 1500 - 1024).doesNotContainKey("skipped");
        assertThat(first.seq()).isEqualTo(1500 - 1024 + 1);
        bus.unsubscribe(q);
        assertThat(bus.subscriberCount()).isZero();
    }

    @Test
    void countersHistogramsAndGaugesRenderInTextFormat() {
        Metrics m = new Metrics();
        m.inc("manager_model_stops_total", "Model stops", Metrics.labels("model", "a\"b", "reason", "idle"));
        m.inc("manager_model_stops_total", "Model stops", Metrics.labels("model", "a\"b", "reason", "idle"));
        m.observe("manager_model_start_seconds", "Start time", Metrics.labels("model", "a"), 0.3);
        StringBuilder out = new StringBuilder();
        m.render(out);
        Metrics.gauge(out, "manager_gaming_mode", "Gaming", Map.of("", 1));
        assertThat(out.toString()).contains(
                "# TYPE manager_model_stops_total counter",
                "manager_model_stops_total{model=\"a\\\"b\",reason=\"idle\"} 2",
                "# TYPE manager_model_start_seconds histogram",
                "manager_model_start_seconds_bucket{model=\"a\",le=\"0.25\"} 0",
                "manager_model_start_seconds_bucket{model=\"a\",le=\"0.5\"} 1",
                "manager_model_start_seconds_bucket{model=\"a\",le=\"+Inf\"} 1",
                "manager_model_start_seconds_count{model=\"a\"} 1",
                "manager_gaming_mode 1");
        assertThat(m.counter("manager_model_stops_total", Metrics.labels("model", "a\"b", "reason", "idle"))).isEqualTo(2);
    }
}
