package dev.localai.tts.api;

import com.fasterxml.jackson.annotation.JsonValue;

import java.util.Locale;
import java.util.Optional;

/** The {@code stream_format} values: raw audio bytes (default) or server-sent events. */
public enum StreamFormat {
    AUDIO, SSE;

    @JsonValue
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<StreamFormat> fromWire(String s) {
        for (StreamFormat f : values()) {
            if (f.wire().equals(s) || f.name().equals(s)) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
