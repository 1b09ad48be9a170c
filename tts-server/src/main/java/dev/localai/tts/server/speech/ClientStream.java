package dev.localai.tts.server.speech;

import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The response body stream, remembering whether writing to the client failed: a failure there means the client went
 * away, which cancels the generation, while any other failure is the server's.
 */
final class ClientStream extends FilterOutputStream {
    private boolean gone;
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
        try {
            out.write(b, off, len);
            written += len;
        } catch (IOException | RuntimeException e) {
            gone = true;
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    @Override
    public void flush() throws IOException {
        try {
            out.flush();
        } catch (IOException | RuntimeException e) {
            gone = true;
            throw e instanceof IOException io ? io : new IOException(e.getMessage(), e);
        }
    }

    /** Whether a write or flush to the client failed. */
    boolean clientGone() {
        return gone;
    }

    /** Bytes handed to the client so far. */
    long written() {
        return written;
    }
}
