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
 * @param textChunksDone      text chunks (long text is split at sentences) fully generated so far
 * @param textChunks          text chunks of the request, or 0 when unknown (e.g. audio served from a cache)
 */
public record SynthesisStats(long inputTokens, long outputTokens, double audioSeconds, long generationNanos,
                             long timeToFirstAudioNanos, long queueNanos, int textChunksDone, int textChunks) {

    public static final SynthesisStats EMPTY = new SynthesisStats(0, 0, 0, 0, 0, 0);

    /** Figures without the text-chunk counts (unknown: 0 of 0). */
    public SynthesisStats(long inputTokens, long outputTokens, double audioSeconds, long generationNanos,
                          long timeToFirstAudioNanos, long queueNanos) {
        this(inputTokens, outputTokens, audioSeconds, generationNanos, timeToFirstAudioNanos, queueNanos, 0, 0);
    }

    /** Generation time in seconds. */
    public double generationSeconds() {
        return generationNanos / 1e9;
    }

    /** Real-time factor: generation time / audio duration (lower is faster; 0 when there is no audio). */
    public double realTimeFactor() {
        return audioSeconds <= 0 ? 0 : generationSeconds() / audioSeconds;
    }
}
