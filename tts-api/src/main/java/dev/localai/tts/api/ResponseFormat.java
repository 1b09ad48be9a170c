package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;
import java.util.Optional;

/** The {@code response_format} values of OpenAI's speech API; {@link #MP3} is the default. */
public enum ResponseFormat {
    MP3, OPUS, AAC, FLAC, WAV, PCM;

    /** The wire name, e.g. {@code "mp3"}. */
    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses a wire name (exact, lower case as OpenAI documents; upper case is tolerated). */
    public static Optional<ResponseFormat> fromWire(String s) {
        for (ResponseFormat f : values()) {
            if (f.wire().equals(s) || f.name().equals(s)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
