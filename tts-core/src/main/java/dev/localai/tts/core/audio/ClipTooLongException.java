package dev.localai.tts.core.audio;

import java.util.Locale;

/** An input clip is longer than the decoder was allowed to read (protects memory against huge uploads). */
public final class ClipTooLongException extends AudioException {

    private final double maximumSeconds;

    public ClipTooLongException(double maximumSeconds) {
        super(String.format(Locale.ROOT, "audio is longer than the %.0f s allowed", maximumSeconds));
        this.maximumSeconds = maximumSeconds;
    }

    public double maximumSeconds() {
        return maximumSeconds;
    }
}
