package dev.localai.tts.core.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.testing.Golden;
import dev.localai.tts.core.voice.TensorArrays;
import org.bytedeco.pytorch.Tensor;
import org.junit.jupiter.api.Test;

class LoudnessTest {

    @Test
    void matchesPyloudnormGolden() {
        try (SafeTensors g = Golden.load("loudness.safetensors");
             Tensor in = g.tensor("in.wav24k");
             Tensor out = g.tensor("out.wav")) {
            float[] x = TensorArrays.floats(in);
            float[] expected = TensorArrays.floats(out);
            double lufsGolden = Double.parseDouble(g.metadata().get("lufs_f64"));
            double lufs = Loudness.integratedLoudness(x, 24000);
            assertThat(lufs).isCloseTo(lufsGolden, within(1e-4));
            float[] y = Loudness.normalize(x, 24000, -27.0);
            double maxAbs = 0, maxRef = 0;
            for (int i = 0; i < y.length; i++) {
                maxAbs = Math.max(maxAbs, Math.abs(y[i] - expected[i]));
                maxRef = Math.max(maxRef, Math.abs(expected[i]));
            }
            assertThat(maxAbs / maxRef).isLessThan(1e-5);
            System.out.printf("loudness: LUFS %.9f vs golden %.9f; max rel wav diff %.3g%n", lufs, lufsGolden,
                    maxAbs / maxRef);
        }
    }

    @Test
    void fullScaleSineAt1kHzReadsAboutMinus3Lufs() {
        // BS.1770: a 0 dBFS 997 Hz sine on one channel reads -3.01 LUFS; pyloudnorm's cookbook biquads (not the
        // standard's tabulated 48 kHz coefficients) land a few hundredths of a LU away
        float[] x = Signals.tone(997, 48000, 48000 * 3, 1.0);
        assertThat(Loudness.integratedLoudness(x, 48000)).isCloseTo(-3.01, within(0.06));
        float[] y = Loudness.normalize(x, 48000, -27.0);
        assertThat(Loudness.integratedLoudness(y, 48000)).isCloseTo(-27.0, within(1e-6));
    }

    @Test
    void silenceHasNoLoudnessAndIsLeftAlone() {
        float[] x = new float[24000 * 2];
        assertThat(Loudness.integratedLoudness(x, 24000)).isEqualTo(Double.NEGATIVE_INFINITY);
        assertThat(Loudness.normalize(x, 24000, -27)).containsExactly(x);
        assertThatThrownBy(() -> Loudness.integratedLoudness(new float[100], 24000))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
