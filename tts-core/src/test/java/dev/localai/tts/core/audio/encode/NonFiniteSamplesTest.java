package dev.localai.tts.core.audio.encode;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.engine.api.AudioFormat;
import java.io.ByteArrayOutputStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * No sample can reach a native abort (issue 12): LAME asserts on non-finite input and takes the whole JVM with it,
 * the AAC encoder throws even on 1e30. Every encoder, streamed or whole-file, refuses NaN and Inf with a typed
 * exception and clamps finite samples outside [-1, 1]; the encoder stays usable for the next clean block.
 */
class NonFiniteSamplesTest {
    private static final int SR = 24_000;

    @ParameterizedTest
    @EnumSource(AudioFormat.class)
    void nanAndInfinityAreRefusedAtEveryEncoder(AudioFormat format) throws Exception {
        for (boolean streaming : new boolean[] {true, false}) {
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] block = TestAudio.tone(440, 0.2, SR, 0.5f);
                block[block.length / 2] = bad;
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                try (AudioEncoder enc = AudioEncoders.open(format, out, SR, streaming, EncoderSettings.DEFAULT)) {
                    enc.write(TestAudio.tone(440, 0.2, SR, 0.5f));
                    assertThatThrownBy(() -> enc.write(block)).isInstanceOf(NonFiniteAudioException.class)
                            .hasMessageContaining(String.valueOf(bad));
                    // the refused block left nothing behind: the stream goes on and finishes cleanly
                    enc.write(TestAudio.tone(440, 0.2, SR, 0.5f));
                    enc.finish();
                }
                assertThat(out.size()).isPositive();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(AudioFormat.class)
    void hugeFiniteSamplesAreClampedNotFatal(AudioFormat format) throws Exception {
        float[] loud = new float[SR / 5];
        for (int i = 0; i < loud.length; i++) {
            loud[i] = (i % 2 == 0 ? 1 : -1) * 1e30f;
        }
        for (boolean streaming : new boolean[] {true, false}) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (AudioEncoder enc = AudioEncoders.open(format, out, SR, streaming, EncoderSettings.DEFAULT)) {
                enc.write(loud);
                enc.finish();
            }
            assertThat(out.size()).isPositive();
        }
        // the caller's array is never modified
        assertThat(loud[0]).isEqualTo(1e30f);
        byte[] pcm = AudioEncoders.encode(AudioFormat.PCM, loud, SR);
        assertThat(Pcm16.toFloats(pcm, 0, 8)).containsExactly(32767 / 32768f, -32767 / 32768f, 32767 / 32768f, -32767 / 32768f);
    }
}
