package dev.localai.tts.core.engine.api;

import java.time.Duration;
import java.util.Optional;

/**
 * How far one synthesis has come, as reported to the listener of
 * {@link SpeechSynthesizer#synthesize(SpeechRequest, java.util.function.Consumer)}: long text is split at sentences
 * into chunks that are generated one after the other, and audio arrives in blocks within each chunk.
 *
 * @param chunksDone   text chunks fully generated
 * @param chunks       text chunks of the request; 0 when unknown (audio served from a cache)
 * @param audioSeconds seconds of audio generated so far
 * @param elapsed      wall time since the request was accepted
 * @param done         {@code true} on the last report, when all the audio is there
 */
public record SynthesisProgress(int chunksDone, int chunks, double audioSeconds, Duration elapsed, boolean done) {

    public SynthesisProgress {
        java.util.Objects.requireNonNull(elapsed, "elapsed");
        if (chunksDone < 0 || chunks < 0) {
            throw new IllegalArgumentException("chunk counts must be >= 0: " + chunksDone + "/" + chunks);
        }
    }

    /** The progress of a stream whose latest figures are {@code stats}. */
    public static SynthesisProgress of(SynthesisStats stats, boolean done) {
        int total = stats.textChunks();
        int finished = done && total > 0 ? total : Math.min(stats.textChunksDone(), total);
        return new SynthesisProgress(finished, total, stats.audioSeconds(), Duration.ofNanos(stats.generationNanos()),
                done);
    }

    /** The finished share in [0, 1], by text chunks (1 when done; 0 while unknown). */
    public double fraction() {
        if (done) {
            return 1;
        }
        return chunks == 0 ? 0 : chunksDone / (double) chunks;
    }

    /**
     * The time left, extrapolated from the time the finished chunks took; empty until a chunk is finished or when
     * the chunk count is unknown.
     */
    public Optional<Duration> eta() {
        if (done) {
            return Optional.of(Duration.ZERO);
        }
        if (chunks == 0 || chunksDone == 0) {
            return Optional.empty();
        }
        return Optional.of(elapsed.multipliedBy(chunks - chunksDone).dividedBy(chunksDone));
    }
}
