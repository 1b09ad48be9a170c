package dev.localai.tts.core.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReferenceAudioTest {

    @TempDir
    Path tmp;

    private static float[] speechLike(int rate, double seconds, double amp) {
        int n = (int) (rate * seconds);
        float[] x = new float[n];
        Random r = new Random(7);
        for (int i = 0; i < n; i++) {
            double t = i / (double) rate;
            double env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
            x[i] = (float) (amp * env * (Math.sin(2 * Math.PI * 220 * t) + 0.3 * Math.sin(2 * Math.PI * 660 * t)
                    + 0.02 * r.nextGaussian()));
        }
        return x;
    }

    @Test
    void preparesA44kStereoFileTo24kAnd16kAtMinus27Lufs() throws Exception {
        float[] l = speechLike(44100, 6.0, 0.3);
        Path f = tmp.resolve("ref.wav");
        Files.write(f, Signals.wav(new float[][] {l, l}, 44100, 1, 16));
        PreparedReference p = ReferenceAudio.prepare(f);
        assertThat(p.wav24k().sampleRate()).isEqualTo(24000);
        assertThat(p.wav24k().length()).isEqualTo(144000);
        assertThat(p.wav16k().length()).isEqualTo(96000);
        assertThat(Loudness.integratedLoudness(p.wav24k().samples(), 24000)).isCloseTo(-27.0, within(1e-3));
        assertThat(p.sourceLufs()).isGreaterThan(-27.0);
        // 16 kHz is the same signal: its loudness matches closely
        assertThat(Loudness.integratedLoudness(p.wav16k().samples(), 16000)).isCloseTo(-27.0, within(0.05));
    }

    @Test
    void rejectsShortClips() {
        MonoAudio a = new MonoAudio(speechLike(16000, 5.0, 0.3), 16000);
        assertThatThrownBy(() -> ReferenceAudio.prepare(a, true)).isInstanceOf(ClipTooShortException.class)
                .hasMessageContaining("5.00 s").hasMessageContaining("longer than 5.0 s");
        assertThat(ReferenceAudio.prepare(new MonoAudio(speechLike(16000, 5.01, 0.3), 16000), true).wav24k().length())
                .isEqualTo(120240);
    }

    @Test
    void rejectsSilentClips() {
        MonoAudio silent = new MonoAudio(new float[16000 * 8], 16000);
        assertThatThrownBy(() -> ReferenceAudio.prepare(silent, true)).isInstanceOf(SilentClipException.class);
        float[] hiss = new float[16000 * 8];
        Random r = new Random(1);
        for (int i = 0; i < hiss.length; i++) {
            hiss[i] = (float) (1e-5 * r.nextGaussian()); // about -100 dBFS
        }
        assertThatThrownBy(() -> ReferenceAudio.prepare(new MonoAudio(hiss, 16000), true))
                .isInstanceOf(SilentClipException.class);
    }

    @Test
    void withoutNormalisationTheLevelIsKept() {
        float[] x = speechLike(24000, 6.0, 0.3);
        PreparedReference p = ReferenceAudio.prepare(new MonoAudio(x, 24000), false);
        assertThat(p.wav24k().samples()).containsExactly(x);
    }
}
