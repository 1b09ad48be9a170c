package dev.localai.tts.core.audio;

import java.util.Locale;
import java.util.Optional;

/**
 * Output formats, exactly those of OpenAI's speech API, with the Content-Type each one is served with.
 */
public enum AudioFormat {
    /** MPEG-1/2 Layer III (LAME). The OpenAI default. */
    MP3("audio/mpeg", "mp3"),
    /** Opus in an Ogg container. */
    OPUS("audio/ogg; codecs=opus", "opus"),
    /** AAC-LC in ADTS framing. */
    AAC("audio/aac", "aac"),
    /** FLAC (lossless). */
    FLAC("audio/flac", "flac"),
    /** RIFF WAVE, 16-bit PCM; streamed WAV carries 0xFFFFFFFF in its size fields. */
    WAV("audio/wav", "wav"),
    /** Raw 24 kHz signed 16-bit little-endian mono samples, no header. */
    PCM("audio/pcm; rate=24000; channels=1; encoding=s16le", "pcm");

    private final String contentType;
    private final String extension;

    AudioFormat(String contentType, String extension) {
        this.contentType = contentType;
        this.extension = extension;
    }

    /** The HTTP Content-Type for this format. */
    public String contentType() {
        return contentType;
    }

    /** The file extension without the dot (also the OpenAI {@code response_format} name). */
    public String extension() {
        return extension;
    }

    /** The lower-case wire name, e.g. {@code "mp3"}. */
    public String wireName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Looks a format up by its wire name (case-insensitive). */
    public static Optional<AudioFormat> fromName(String name) {
        if (name == null) {
            return Optional.empty();
        }
        for (AudioFormat f : values()) {
            if (f.name().equalsIgnoreCase(name)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
