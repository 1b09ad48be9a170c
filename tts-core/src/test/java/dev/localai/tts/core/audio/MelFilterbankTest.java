package dev.localai.tts.core.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MelFilterbankTest {

    @Test
    void slaneyScaleIsLinearBelow1kHzAndLogAbove() {
        assertThat(MelFilterbank.hzToMel(1000)).isCloseTo(15.0, within(1e-12));
        assertThat(MelFilterbank.hzToMel(500)).isCloseTo(7.5, within(1e-12));
        assertThat(MelFilterbank.melToHz(MelFilterbank.hzToMel(6400))).isCloseTo(6400, within(1e-9));
        assertThat(MelFilterbank.hzToMel(6400)).isCloseTo(15 + 27, within(1e-9)); // log step ln(6.4)/27
    }

    @Test
    void filtersAreAreaNormalisedTriangles() {
        float[][] w = MelFilterbank.slaney(16000, 400, 40, 0, 8000);
        assertThat(w).hasNumberOfRows(40);
        assertThat(w[0]).hasSize(201);
        // each filter's area in Hz equals 1 (Slaney normalisation: height 2/(f2-f0), base f2-f0)
        double binHz = 8000.0 / 200;
        for (int i = 5; i < 40; i++) {
            double area = 0;
            for (float v : w[i]) {
                area += v * binHz;
            }
            assertThat(area).isCloseTo(1.0, within(0.06));
        }
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=40)[0, 1]
        assertThat(w[0][0]).isEqualTo(0f);
        assertThat(w[0][1]).isGreaterThan(0f);
    }
}
