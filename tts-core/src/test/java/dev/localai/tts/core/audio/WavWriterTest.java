package dev.localai.tts.core.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavWriterTest {

    @TempDir
    Path tmp;

    @Test
    void pcm16RoundTripsThroughTheDecoder() throws Exception {
        float[] x = Signals.tone(440, 24000, 24000, 0.8);
        x[5] = 1.5f; // clamped
        Path f = tmp.resolve("out/speech.wav");
        WavWriter.writePcm16(f, x, 24000);
        assertThat(Files.size(f)).isEqualTo(44 + 48000);
        MonoAudio a = AudioDecoder.decode(f);
        assertThat(a.sampleRate()).isEqualTo(24000);
        float[] y = a.samples();
        assertThat(y[5]).isCloseTo(32767f / 32768f, within(1e-6f));
        for (int i = 6; i < x.length; i++) {
            assertThat((double) y[i]).isCloseTo(x[i], within(2.0 / 32768) /* written x32767, read /32768 */);
        }
        try (var s = Files.list(f.getParent())) {
            assertThat(s.count()).isEqualTo(1); // no temporary left behind
        }
    }

    @Test
    void float32IsExact() throws Exception {
        float[] x = Signals.tone(1000, 24000, 2400, 0.3);
        Path f = tmp.resolve("f.wav");
        WavWriter.writeFloat32(f, x, 24000);
        assertThat(AudioDecoder.decode(f).samples()).containsExactly(x);
    }
}
