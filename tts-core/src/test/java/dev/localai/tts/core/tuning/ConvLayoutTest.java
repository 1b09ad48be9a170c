package dev.localai.tts.core.tuning;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The layout choice from the probe's timings: channels-last only when measured faster by its margin (10%). */
class ConvLayoutTest {
    private static Map<String, Double> ms(Double contiguous, Double channelsLast) {
        Map<String, Double> m = new LinkedHashMap<>();
        if (contiguous != null) {
            m.put(ConvLayout.CONTIGUOUS, contiguous);
        }
        if (channelsLast != null) {
            m.put(ConvLayout.CHANNELS_LAST, channelsLast);
        }
        return m;
    }

    @Test
    void channelsLastWhenClearlyFaster() {
        assertThat(ConvLayout.channelsLast(ms(10.0, 6.0))).isTrue();
        assertThat(ConvLayout.channelsLast(ms(10.0, 9.0))).isTrue();
        // the chain under the AVX2 caps on the Zen 5 EPYC: taken
        assertThat(ConvLayout.channelsLast(ms(27.26, 19.30))).isTrue();
    }

    @Test
    void theDefaultWhenWithinTheMarginOrSlower() {
        // channels-last 2.7% and 6% ahead on the chain: not enough (the chain understates the default's lead in HiFT)
        assertThat(ConvLayout.channelsLast(ms(16.39, 15.96))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, 9.4))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, 9.2))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, 9.6))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, 10.0))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, 14.0))).isFalse();
    }

    @Test
    void theDefaultWithoutTwoUsableFigures() {
        assertThat(ConvLayout.channelsLast(Map.of())).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, null))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(null, 1.0))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(Double.NaN, 1.0))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, Double.NaN))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(10.0, 0.0))).isFalse();
        assertThat(ConvLayout.channelsLast(ms(Double.POSITIVE_INFINITY, 1.0))).isFalse();
    }
}
