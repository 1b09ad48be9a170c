package dev.localai.tts.core.engine.api;

/**
 * Timing and token figures of one synthesis.
 *
 * @param inputTokens         text tokens fed to the model
 * @param outputTokens        speech tokens generated
 * @param audioSeconds        seconds of audio produced (after any time-stretch)
 * @param generationNanos     wall time from the request being accepted to the last sample
 * @param timeToFirstAudioNanos wall time to the first audio chunk (equals generationNanos when not streamed)
 * @param queueNanos          time spent waiting for a free slot before generation began
 */
public record SynthesisStats(long inputTokens, long outputTokens, double audioSeconds, long generationNanos,
                             long timeToFirstAudioNanos, long queueNanos) {

    public static final SynthesisStats EMPTY = new SynthesisStats(0, 0, 0, 0, 0, 0);

    /** Generation time in seconds. */
    public double generationSeconds() {
        return generationNanos / 1e9;
    }

    /** Real-time factor: generation time / audio duration (lower is faster; 0 when there is no audio). */
    public double realTimeFactor() {
        return audioSeconds <= 0 ? 0 : generationSeconds() / audioSeconds;
    }
}
