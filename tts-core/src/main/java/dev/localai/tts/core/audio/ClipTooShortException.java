package dev.localai.tts.core.audio;

import java.util.Locale;

/** A reference clip is not longer than the minimum duration upstream accepts (5 s). */
public final class ClipTooShortException extends AudioException {

    private final double seconds;
    private final double minimumSeconds;

    public ClipTooShortException(double seconds, double minimumSeconds) {
        super(String.format(Locale.ROOT,
                "reference clip is %.2f s long; it must be longer than %.1f s", seconds, minimumSeconds));
        this.seconds = seconds;
        this.minimumSeconds = minimumSeconds;
    }

    /** Duration of the clip that was rejected, in seconds. */
    public double seconds() {
        return seconds;
    }

    /** The clip must be strictly longer than this many seconds. */
    public double minimumSeconds() {
        return minimumSeconds;
    }
}
