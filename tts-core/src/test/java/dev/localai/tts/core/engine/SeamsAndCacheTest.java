package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Random;
import org.junit.jupiter.api.Test;

class SeamsAndCacheTest {
    private static float[] tone(int n, double hz, double amp) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (amp * Math.sin(2 * Math.PI * hz * i / 24000));
        }
        return x;
    }

    private static double rms(float[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += (double) x[i] * x[i];
        }
        return Math.sqrt(s / (to - from));
    }

    @Test
    void equalPowerCrossfadeKeepsLoudnessOfUncorrelatedNoise() {
        Random r = new Random(1);
        float[] a = new float[24000];
        float[] b = new float[24000];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian() * 0.1f;
            b[i] = (float) r.nextGaussian() * 0.1f;
        }
        float[] out = Seams.crossfade(a, b, 4800);
        assertThat(out).hasSize(48000 - 4800);
        double seam = rms(out, 24000 - 4800, 24000);
        assertThat(seam).isCloseTo(0.1, within(0.01));
        assertThat(out[0]).isEqualTo(a[0]);
        assertThat(out[out.length - 1]).isEqualTo(b[b.length - 1]);
    }

    @Test
    void trimsTrailingAndLeadingSilence() {
        float[] x = new float[24000 * 2];
        float[] t = tone(12000, 220, 0.5);
        System.arraycopy(t, 0, x, 6000, t.length);
        int end = Seams.speechEnd(x, 24000, -40, 20);
        int start = Seams.speechStart(x, 24000, -40, 20);
        assertThat(end).isBetween(18000, 18000 + 480 + 240);
        assertThat(start).isBetween(6000 - 480 - 240, 6000);
        assertThat(Seams.speechEnd(new float[1000], 24000, -40, 20)).isZero();
    }

    @Test
    void cacheEvictsLeastRecentlyUsedByBytes() {
        AudioCache<String> c = new AudioCache<>(4 * 250);
        c.put("a", new float[100]);
        c.put("b", new float[100]);
        assertThat(c.get("a")).hasSize(100); // a is now most recent
        c.put("c", new float[100]); // 300 samples > 250: evicts b
        assertThat(c.get("b")).isNull();
        assertThat(c.get("a")).isNotNull();
        assertThat(c.get("c")).isNotNull();
        assertThat(c.bytes()).isEqualTo(800);
        c.put("huge", new float[1000]);
        assertThat(c.get("huge")).isNull();
        float[] got = c.get("a");
        got[0] = 5;
        assertThat(c.get("a")[0]).isZero();
        assertThat(c.hits()).isEqualTo(5);
        assertThat(c.misses()).isEqualTo(2);
    }
}
