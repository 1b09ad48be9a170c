package dev.localai.tts.core.engine.api;

import java.util.Iterator;

/**
 * A running streamed synthesis: a blocking iterator of {@link AudioChunk}s (call it from a virtual thread or a
 * worker). {@link #close()} cancels the generation if it is still running and frees its resources; it is idempotent
 * and may be called from any thread, after which {@link #hasNext()} returns {@code false} (possibly after throwing
 * {@link java.util.concurrent.CancellationException} from a blocked call).
 */
public interface SpeechStream extends Iterator<AudioChunk>, AutoCloseable {

    /** Figures of the synthesis so far (final once the last chunk is taken). */
    SynthesisStats stats();

    /** Cancels the generation (if running) and frees its resources. Never throws. */
    @Override
    void close();
}
