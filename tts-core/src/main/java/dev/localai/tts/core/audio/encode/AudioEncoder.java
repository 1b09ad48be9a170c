package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.audio.AudioFormat;
import java.io.IOException;

/**
 * A streaming encoder of mono float PCM (in [-1, 1], at the rate it was opened with) into one output stream.
 * Not thread-safe: one producer writes, then calls {@link #finish()} exactly once. {@link #close()} releases
 * native resources (and abandons the output if {@link #finish()} was not called).
 */
public interface AudioEncoder extends AutoCloseable {

    /** The format written. */
    AudioFormat format();

    /** Encodes samples; encoded bytes are written to the output as soon as the codec and muxer release them. */
    void write(float[] samples, int offset, int length) throws IOException;

    /** Encodes all of {@code samples}. */
    default void write(float[] samples) throws IOException {
        write(samples, 0, samples.length);
    }

    /** Drains the codec, writes the trailer and flushes the output. The output stream is not closed. */
    void finish() throws IOException;

    /** Releases resources; idempotent, never throws. */
    @Override
    void close();
}
