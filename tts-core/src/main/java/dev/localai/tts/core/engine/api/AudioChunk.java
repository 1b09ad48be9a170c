package dev.localai.tts.core.engine.api;

/**
 * One piece of a streamed synthesis: consecutive chunks concatenate seamlessly (any crossfade has already been
 * applied). The array is owned by the chunk.
 *
 * @param samples      mono float samples in [-1, 1] at {@link AudioClip#SAMPLE_RATE}
 * @param index        0-based position of the chunk in its stream
 * @param offsetSamples number of samples delivered before this chunk
 * @param last         {@code true} on the final chunk
 * @param stats        figures so far (complete on the last chunk), never {@code null}
 */
public record AudioChunk(float[] samples, int index, long offsetSamples, boolean last, SynthesisStats stats) {
    public AudioChunk {
        java.util.Objects.requireNonNull(samples, "samples");
        if (stats == null) {
            stats = SynthesisStats.EMPTY;
        }
    }
}
