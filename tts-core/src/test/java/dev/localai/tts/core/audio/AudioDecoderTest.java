package dev.localai.tts.core.audio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AudioDecoderTest {

    @TempDir
    Path tmp;

    @ParameterizedTest
    @CsvSource({"1,16", "1,24", "1,32", "3,32", "1,16"})
    void decodesWavPcmAndFloatExactly(int format, int bits) throws Exception {
        float[] x = Signals.tone(440, 22050, 4410, 0.5);
        Path f = tmp.resolve("a.wav");
        Files.write(f, Signals.wav(new float[][] {x}, 22050, format, bits));
        MonoAudio a = AudioDecoder.decode(f);
        assertThat(a.sampleRate()).isEqualTo(22050);
        assertThat(a.length()).isEqualTo(4410);
        double tol = switch (bits) {
            case 16 -> 1.0 / 32768 + 1e-9;
            case 24 -> 1.0 / 8388608 + 1e-9;
            default -> 1e-7;
        };
        float[] y = a.samples();
        for (int i = 0; i < x.length; i++) {
            assertThat((double) y[i]).isCloseTo(x[i], within(tol));
        }
    }

    @Test
    void stereoIsAveragedToMono() throws Exception {
        float[] l = Signals.tone(300, 16000, 1600, 0.5);
        float[] r = new float[1600];
        for (int i = 0; i < r.length; i++) {
            r[i] = 0.25f;
        }
        Path f = tmp.resolve("s.wav");
        Files.write(f, Signals.wav(new float[][] {l, r}, 16000, 3, 32));
        float[] y = AudioDecoder.decode(f).samples();
        assertThat(y).hasSize(1600);
        for (int i = 0; i < y.length; i++) {
            assertThat(y[i]).isCloseTo((l[i] + 0.25f) / 2, within(1e-7f));
        }
    }

    @ParameterizedTest
    @CsvSource({"flac,flac,44100,1", "mp3,libmp3lame,44100,2", "ogg,libopus,48000,1", "ogg,libopus,48000,2"})
    void decodesCompressedFormats(String container, String codec, int rate, int channels) throws Exception {
        int n = rate; // 1 s
        float[] x = Signals.tone(440, rate, n, 0.5);
        Path f = tmp.resolve("t." + container);
        try (FFmpegFrameRecorder rec = new FFmpegFrameRecorder(f.toFile(), channels)) {
            rec.setFormat(container);
            rec.setAudioCodecName(codec);
            rec.setSampleRate(rate);
            rec.setAudioChannels(channels);
            rec.setAudioBitrate(128_000);
            rec.setSampleFormat(codec.equals("flac") ? avutil.AV_SAMPLE_FMT_S16 : -1);
            rec.start();
            float[] inter = new float[n * channels];
            for (int i = 0; i < n; i++) {
                for (int c = 0; c < channels; c++) {
                    inter[i * channels + c] = x[i];
                }
            }
            rec.recordSamples(rate, channels, FloatBuffer.wrap(inter));
            rec.stop();
        }
        MonoAudio a = AudioDecoder.decode(f);
        assertThat(a.sampleRate()).isEqualTo(rate);
        assertThat(a.seconds()).isCloseTo(1.0, within(0.1));
        float[] y = a.samples();
        int from = rate / 10, to = rate * 8 / 10;
        assertThat(Signals.peakFrequency(y, rate, 300, 600, from, to)).isCloseTo(440.0, within(0.5));
        assertThat(Signals.amplitudeAt(y, rate, 440, from, to)).isCloseTo(0.5, within(0.03));
        if (codec.equals("flac")) {
            for (int i = 0; i < n; i++) {
                assertThat((double) y[i]).isCloseTo(x[i], within(1.0 / 32768 + 1e-6));
            }
        }
        // the in-memory path decodes the same stream (MP3 gapless trimming may differ without seeking)
        MonoAudio b = AudioDecoder.decode(Files.readAllBytes(f));
        assertThat(b.sampleRate()).isEqualTo(rate);
        assertThat(b.seconds()).isCloseTo(a.seconds(), within(0.06));
        assertThat(Signals.peakFrequency(b.samples(), rate, 300, 600, from, to)).isCloseTo(440.0, within(0.5));
    }

    @Test
    void garbageIsUndecodable() throws Exception {
        Path f = tmp.resolve("x.wav");
        Files.writeString(f, "this is not audio at all, just some text pretending to be a wave file");
        assertThatThrownBy(() -> AudioDecoder.decode(f)).isInstanceOf(UndecodableAudioException.class);
        assertThatThrownBy(() -> AudioDecoder.decode(tmp.resolve("missing.wav")))
                .isInstanceOf(UndecodableAudioException.class).hasMessageContaining("no such");
        assertThatThrownBy(() -> AudioDecoder.decode(new byte[0])).isInstanceOf(UndecodableAudioException.class);
    }

    @Test
    void tooLongIsRejected() throws Exception {
        Path f = tmp.resolve("long.wav");
        Files.write(f, Signals.wav(new float[][] {new float[16000 * 3]}, 16000, 1, 16));
        assertThatThrownBy(() -> AudioDecoder.decode(f, 2.0)).isInstanceOf(ClipTooLongException.class);
        assertThat(AudioDecoder.decode(f, 3.0).length()).isEqualTo(48000);
    }

    @Test
    void codecsUsedByTheTestsExist() {
        assertThat(avcodec.avcodec_find_decoder_by_name("mp3")).isNotNull();
    }
}
