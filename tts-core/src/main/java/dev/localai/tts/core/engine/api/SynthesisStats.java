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
 * @param cheaperAudioSeconds seconds of the audio (within {@code audioSeconds}) whose S3Gen flow ran cheaper than the
 *                            checkpoint's computation (on the voice prompt's last part, in fewer solver steps) so that
 *                            a streamed request's first audio met the engine's target or a listener playing it in real
 *                            time did not wait ({@code TtsOptions.Builder#firstAudioTarget}); 0 for a whole clip, for
 *                            a target of 0, and where the machine kept up without; known when the last chunk is taken
 */
public record SynthesisStats(long inputTokens, long outputTokens, double audioSeconds, long generationNanos,
                             long timeToFirstAudioNanos, long queueNanos, int textChunksDone, int textChunks,
                             double cheaperAudioSeconds) {

    public static final SynthesisStats EMPTY = new SynthesisStats(0, 0, 0, 0, 0, 0);

    public SynthesisStats {
        if (!(cheaperAudioSeconds >= 0)) {
            throw new IllegalArgumentException("cheaper audio seconds " + cheaperAudioSeconds + " must be >= 0");
        }
    }

    /** Figures of audio made entirely by the checkpoint's computation ({@code cheaperAudioSeconds} 0). */
    public SynthesisStats(long inputTokens, long outputTokens, double audioSeconds, long generationNanos,
                          long timeToFirstAudioNanos, long queueNanos, int textChunksDone, int textChunks) {
        this(inputTokens, outputTokens, audioSeconds, generationNanos, timeToFirstAudioNanos, queueNanos,
                textChunksDone, textChunks, 0);
    }

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
