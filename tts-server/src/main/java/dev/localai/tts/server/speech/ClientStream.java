package dev.localai.tts.server.speech;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The response body stream, remembering whether writing to the client failed: a failure there means the client went
 * away, which cancels the generation, while any other failure is the server's. A client found gone another way (it
 * stalled, or closed its connection: {@link #markStalled}, {@link #markHungUp}) makes the next write fail too.
 */
final class ClientStream extends FilterOutputStream {
    private volatile boolean gone;
    private volatile boolean stalled;
    private volatile boolean hungUp;
    private volatile long blockedSince;
    private long written;

    ClientStream(OutputStream out) {
        super(out);
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        blockedSince = System.nanoTime();
        try {
            out.write(b, off, len);
            written += len;
        } catch (IOException | RuntimeException e) {
            gone = true;
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        } finally {
            blockedSince = 0;
        }
        refuseIfLeft();
    }

    @Override
    public void flush() throws IOException {
        blockedSince = System.nanoTime();
        try {
            out.flush();
        } catch (IOException | RuntimeException e) {
            gone = true;
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        } finally {
            blockedSince = 0;
        }
        refuseIfLeft();
    }

    private void refuseIfLeft() throws IOException {
        if (stalled) {
            gone = true;
            throw new IOException("the client stopped reading; the response was abandoned");
        }
        if (hungUp) {
            gone = true;
            throw new IOException("the client closed its connection; the response was abandoned");
        }
    }

    /** Whether a write or flush to the client failed (or the client stalled or closed its connection). */
    boolean clientGone() {
        return gone;
    }

    /** When the write or flush in progress began ({@link System#nanoTime()}), or 0 when none is. */
    long blockedSince() {
        return blockedSince;
    }

    /** Marks the client as stalled: the next write fails. */
    void markStalled() {
        stalled = true;
    }

    /** Marks the client as gone: it closed its connection ({@code Hangups}); the next write fails. */
    void markHungUp() {
        hungUp = true;
        gone = true;
    }

    /** Whether the client was found to have closed its connection ({@link #markHungUp}). */
    boolean hungUp() {
        return hungUp;
    }

    /** Bytes handed to the client so far. */
    long written() {
        return written;
    }
}
