package dev.localai.tts.core.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class ResamplerTest {

    @ParameterizedTest
    @CsvSource({
        "24000,16000,1000", "24000,16000,7000", "16000,24000,3000", "44100,24000,440", "44100,16000,5000",
        "48000,16000,7200", "22050,24000,9000", "8000,16000,3500", "48000,24000,10000", "44101,16000,1234"})
    void preservesFrequencyAndAmplitudeInThePassBand(int from, int to, double hz) {
        float[] x = Signals.tone(hz, from, from, 0.5); // 1 s
        float[] y = Resampler.resample(x, from, to);
        assertThat(y).hasSize(Resampler.outputLength(x.length, from, to));
        int a = to / 10, b = to * 9 / 10; // away from the edges
        assertThat(Signals.peakFrequency(y, to, hz - 30, hz + 30, a, b)).isCloseTo(hz, within(0.05));
        assertThat(Signals.amplitudeAt(y, to, hz, a, b)).isCloseTo(0.5, within(0.5e-3));
        // the rest is the tone itself: residual after removing the fitted tone is tiny
        float[] ref = Signals.tone(hz, to, y.length, 0.5);
        double err = 0;
        for (int i = a; i < b; i++) {
            err = Math.max(err, Math.abs(y[i] - ref[i]));
        }
        assertThat(err).isLessThan(1e-3);
    }

    @ParameterizedTest
    @CsvSource({"48000,16000,9000", "48000,16000,15000", "24000,16000,8600", "24000,16000,11000", "44100,24000,13000",
        "44100,16000,20000"})
    void rejectsWhatWouldAlias(int from, int to, double hz) {
        float[] x = Signals.tone(hz, from, from, 0.5);
        float[] y = Resampler.resample(x, from, to);
        int a = to / 10, b = to * 9 / 10;
        // anything left would sit at an alias frequency; -100 dB relative to the input amplitude
        assertThat(Signals.rms(y, a, b)).isLessThan(0.5 * 1e-5);
    }

    @Test
    void upsamplingAddsNoImages() {
        float[] x = Signals.tone(5000, 16000, 16000, 0.5);
        float[] y = Resampler.resample(x, 16000, 24000);
        // the image of 5 kHz would be at 11 kHz
        assertThat(Signals.amplitudeAt(y, 24000, 11000, 2400, 21600)).isLessThan(1e-5);
    }

    @Test
    void identityAndLengths() {
        float[] x = {0.1f, 0.2f, 0.3f};
        assertThat(Resampler.resample(x, 16000, 16000)).containsExactly(x).isNotSameAs(x);
        assertThat(Resampler.outputLength(240000, 24000, 16000)).isEqualTo(160000);
        assertThat(Resampler.outputLength(10, 24000, 16000)).isEqualTo(7);
        assertThat(Resampler.resample(new float[0], 24000, 16000)).isEmpty();
    }

    @Test
    void dcGainIsUnity() {
        float[] x = new float[24000];
        java.util.Arrays.fill(x, 0.25f);
        float[] y = Resampler.resample(x, 24000, 16000);
        for (int i = 2000; i < 14000; i++) {
            assertThat((double) y[i]).isCloseTo(0.25, within(1e-5));
        }
    }
}
