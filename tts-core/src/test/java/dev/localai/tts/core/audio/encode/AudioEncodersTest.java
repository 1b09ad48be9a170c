package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.audio.AudioFormat;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AudioEncodersTest {
    private static final int SR = 24_000;

    /** Streams 1.5 s of a 440 Hz tone in uneven chunks and decodes it back. */
    @ParameterizedTest
    @EnumSource(AudioFormat.class)
    void streamedOutputDecodesToTheSameTone(AudioFormat format) throws Exception {
        float[] tone = TestAudio.tone(440, 1.5, SR, 0.5f);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int firstBytesAfterChunk = -1;
        try (AudioEncoder enc = AudioEncoders.streaming(format, out, SR)) {
            int[] sizes = {480, 2400, 7, 5000, 12000};
            int at = 0;
            int i = 0;
            while (at < tone.length) {
                int len = Math.min(sizes[i++ % sizes.length], tone.length - at);
                enc.write(tone, at, len);
                at += len;
                if (firstBytesAfterChunk < 0 && out.size() > 0) {
                    firstBytesAfterChunk = i;
                }
            }
            enc.finish();
        }
        byte[] bytes = out.toByteArray();
        // bytes must leave before the end: that is what makes streaming useful
        assertThat(firstBytesAfterChunk).as("chunk after which the first bytes came out").isBetween(1, 4);
        checkTone(format, bytes, 1.5);
        if (format == AudioFormat.WAV) {
            ByteBuffer h = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(h.getInt(4)).isEqualTo(0xFFFFFFFF);
            assertThat(h.getInt(40)).isEqualTo(0xFFFFFFFF);
        }
    }

    @ParameterizedTest
    @EnumSource(AudioFormat.class)
    void wholeFileDecodesToTheSameTone(AudioFormat format) throws Exception {
        float[] tone = TestAudio.tone(440, 1.5, SR, 0.5f);
        byte[] bytes = AudioEncoders.encode(format, tone, SR);
        checkTone(format, bytes, 1.5);
        if (format == AudioFormat.WAV) {
            ByteBuffer h = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
            assertThat(h.getInt(4)).isEqualTo(36 + tone.length * 2);
            assertThat(h.getInt(40)).isEqualTo(tone.length * 2);
            assertThat(bytes).hasSize(44 + tone.length * 2);
        }
        if (format == AudioFormat.PCM) {
            assertThat(bytes).hasSize(tone.length * 2);
        }
    }

    @Test
    void pcmIsLittleEndianS16AndClips() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (AudioEncoder enc = AudioEncoders.streaming(AudioFormat.PCM, out, SR)) {
            enc.write(new float[] {0f, 1f, -1f, 2f, -2f, 0.5f});
            enc.finish();
        }
        ByteBuffer b = ByteBuffer.wrap(out.toByteArray()).order(ByteOrder.LITTLE_ENDIAN);
        assertThat(new short[] {b.getShort(), b.getShort(), b.getShort(), b.getShort(), b.getShort(), b.getShort()})
                .containsExactly(0, 32767, -32767, 32767, -32767, 16384);
    }

    @Test
    void contentTypes() {
        assertThat(AudioFormat.MP3.contentType()).isEqualTo("audio/mpeg");
        assertThat(AudioFormat.OPUS.contentType()).startsWith("audio/ogg");
        assertThat(AudioFormat.AAC.contentType()).isEqualTo("audio/aac");
        assertThat(AudioFormat.FLAC.contentType()).isEqualTo("audio/flac");
        assertThat(AudioFormat.WAV.contentType()).isEqualTo("audio/wav");
        assertThat(AudioFormat.PCM.contentType()).startsWith("audio/pcm");
    }

    static void checkTone(AudioFormat format, byte[] bytes, double seconds) throws Exception {
        TestAudio.Decoded d = TestAudio.decode(bytes, format == AudioFormat.PCM);
        String expectedFormat = switch (format) {
            case MP3 -> "mp3";
            case OPUS -> "ogg";
            case AAC -> "aac";
            case FLAC -> "flac";
            case WAV -> "wav";
            case PCM -> "pcm";
        };
        assertThat(d.format()).as("container").isEqualTo(expectedFormat);
        // lossy codecs add priming/padding: at most ~0.1 s
        assertThat(d.seconds()).as("decoded duration of %s", format).isCloseTo(seconds, within(0.1));
        int from = d.samples().length / 4;
        int to = from + d.samples().length / 2;
        assertThat(TestAudio.dominantFrequency(d.samples(), from, to, SR, 300, 600)).isCloseTo(440, within(2.0));
        assertThat(TestAudio.rms(d.samples(), from, to)).isCloseTo(0.5 / Math.sqrt(2), within(0.05));
    }
}
