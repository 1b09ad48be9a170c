package dev.localai.tts.core.audio.encode;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TimeStretcherTest {
    private static final int SR = 24_000;

    @ParameterizedTest
    @ValueSource(doubles = {0.25, 0.5, 0.8, 1.25, 2.0, 4.0})
    void keepsPitchAndScalesDuration(double speed) {
        float[] tone = TestAudio.tone(440, 2.0, SR, 0.5f);
        float[] out = TimeStretcher.stretch(tone, speed, SR);
        assertThat(out.length).isEqualTo(Math.round(tone.length / speed));
        int from = out.length / 4;
        int to = out.length * 3 / 4;
        double f = TestAudio.dominantFrequency(out, from, to, SR, 200, 900);
        assertThat(f).as("pitch at speed %s", speed).isCloseTo(440, within(2.0));
        // the level stays (no comb-filter dips from misaligned overlaps)
        assertThat(TestAudio.rms(out, from, to)).isCloseTo(0.5 / Math.sqrt(2), within(0.04));
    }

    @Test
    void streamingInAnyChunkingEqualsOneShot() {
        Random rnd = new Random(7);
        float[] x = new float[SR];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (0.3 * Math.sin(2 * Math.PI * 180 * i / SR) + 0.05 * rnd.nextGaussian());
        }
        float[] whole = TimeStretcher.stretch(x, 1.5, SR);
        TimeStretcher t = new TimeStretcher(1.5, SR);
        float[] acc = new float[0];
        int at = 0;
        while (at < x.length) {
            int len = Math.min(1 + rnd.nextInt(3000), x.length - at);
            acc = concat(acc, t.process(x, at, len));
            at += len;
        }
        acc = concat(acc, t.finish());
        assertThat(acc).containsExactly(whole);
    }

    @Test
    void unitSpeedIsIdentityAndRangeIsChecked() {
        float[] x = TestAudio.tone(300, 0.1, SR, 0.2f);
        assertThat(TimeStretcher.stretch(x, 1.0, SR)).containsExactly(x);
        assertThatThrownBy(() -> new TimeStretcher(0.2, SR)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new TimeStretcher(4.5, SR)).isInstanceOf(IllegalArgumentException.class);
    }

    private static float[] concat(float[] a, float[] b) {
        float[] r = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
