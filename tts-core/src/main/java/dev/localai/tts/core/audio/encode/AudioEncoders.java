package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.engine.api.AudioFormat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.Objects;

/** Opens {@link AudioEncoder}s. */
public final class AudioEncoders {
    private AudioEncoders() {
    }

    /**
     * Opens a streaming encoder: bytes are written to {@code out} as they are produced (WAV with the
     * {@code 0xFFFFFFFF} size sentinel, FLAC without a total-samples count, mp3 without a Xing header).
     */
    public static AudioEncoder streaming(AudioFormat format, OutputStream out, int sampleRate) throws IOException {
        return open(format, out, sampleRate, true, EncoderSettings.DEFAULT);
    }

    /**
     * Opens a whole-file encoder: nothing is written to {@code out} until {@link AudioEncoder#finish()}, which writes
     * a complete file with real sizes in its headers.
     */
    public static AudioEncoder file(AudioFormat format, OutputStream out, int sampleRate) throws IOException {
        return open(format, out, sampleRate, false, EncoderSettings.DEFAULT);
    }

    /** Opens an encoder. */
    public static AudioEncoder open(AudioFormat format, OutputStream out, int sampleRate, boolean streaming,
                                    EncoderSettings settings) throws IOException {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(out, "out");
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sampleRate must be positive: " + sampleRate);
        }
        return new CheckedEncoder(switch (format) {
            case PCM -> new PcmEncoder(out);
            case WAV -> new WavEncoder(out, sampleRate, streaming);
            case MP3, OPUS, AAC, FLAC -> new FfmpegEncoder(format, out, sampleRate, streaming,
                    settings == null ? EncoderSettings.DEFAULT : settings);
        });
    }

    /** Encodes a whole clip to a complete file. */
    public static byte[] encode(AudioFormat format, float[] samples, int sampleRate) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(Math.max(1024, samples.length / 4));
        try (AudioEncoder enc = file(format, bytes, sampleRate)) {
            enc.write(samples);
            enc.finish();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** Loads the FFmpeg natives and opens each codec once, so the first request does not pay for it. */
    public static void warmUp() {
        float[] silence = new float[2400];
        for (AudioFormat f : AudioFormat.values()) {
            encode(f, silence, 24_000);
        }
    }
}
