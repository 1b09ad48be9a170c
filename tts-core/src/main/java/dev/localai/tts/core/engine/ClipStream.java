package dev.localai.tts.core.engine;

import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SynthesisStats;
import java.util.Arrays;
import java.util.NoSuchElementException;

/** A finished clip (from the audio cache) served as a stream of fixed-size chunks. */
final class ClipStream implements SpeechStream {
    private final float[] samples;
    private final int chunk;
    private final SynthesisStats stats;
    private int at;
    private int index;
    private boolean closed;

    ClipStream(float[] samples, int chunkSamples, SynthesisStats stats) {
        this.samples = samples;
        this.chunk = Math.max(1, chunkSamples);
        this.stats = stats;
    }

    @Override
    public boolean hasNext() {
        return !closed && (at < samples.length || index == 0);
    }

    @Override
    public AudioChunk next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        int end = Math.min(samples.length, at + chunk);
        AudioChunk c = new AudioChunk(Arrays.copyOfRange(samples, at, end), index++, at, end >= samples.length, stats);
        at = end;
        if (end >= samples.length) {
            closed = true;
        }
        return c;
    }

    @Override
    public SynthesisStats stats() {
        return stats;
    }

    @Override
    public void close() {
        closed = true;
    }
}
