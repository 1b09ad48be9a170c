package dev.localai.tts.core.engine.api;

/**
 * A finished piece of speech: mono float samples in [-1, 1] at {@link #SAMPLE_RATE} plus the synthesis figures.
 * The array is owned by the clip; callers must not modify it.
 *
 * @param samples    the audio
 * @param sampleRate samples per second (always {@link #SAMPLE_RATE} for Chatterbox)
 * @param stats      timing and token figures
 */
public record AudioClip(float[] samples, int sampleRate, SynthesisStats stats) {

    /** Chatterbox's output rate: 24 kHz. */
    public static final int SAMPLE_RATE = 24_000;

    public AudioClip {
        java.util.Objects.requireNonNull(samples, "samples");
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sampleRate must be positive: " + sampleRate);
        }
        if (stats == null) {
            stats = SynthesisStats.EMPTY;
        }
    }

    /** Duration in seconds. */
    public double durationSeconds() {
        return samples.length / (double) sampleRate;
    }
}
