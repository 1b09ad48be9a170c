package dev.localai.tts.server.wyoming;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.api.Json;
import java.io.BufferedOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * Writes Wyoming events as the reference implementation does: the header line ({@code type}, {@code version},
 * {@code data_length}, {@code payload_length}) and a newline, then the data as UTF-8 JSON, then the payload. Events
 * are buffered until {@link #flush()}. Remembers since when a write to the client has been blocked, so a stalled
 * client can be cut off.
 */
final class EventWriter {
    /** The protocol version written in every header (1.7 brought streamed synthesis). */
    static final String PROTOCOL_VERSION = "1.7.0";

    private final Watched watched;
    private final OutputStream out;

    EventWriter(OutputStream socketOut) {
        this.watched = new Watched(socketOut);
        this.out = new BufferedOutputStream(watched, 16 * 1024);
    }

    /** Buffers one event. */
    void write(WyomingEvent e) throws IOException {
        ObjectNode header = WyomingEvent.object();
        header.put("type", e.type());
        header.put("version", PROTOCOL_VERSION);
        byte[] data = null;
        if (e.data().isEmpty()) {
            // older readers take a missing "data" for None, which some event classes cannot read
            header.putObject("data");
        } else {
            data = Json.bytes(e.data());
            header.put("data_length", data.length);
        }
        if (e.payload().length > 0) {
            header.put("payload_length", e.payload().length);
        }
        out.write(Json.bytes(header));
        out.write('\n');
        if (data != null) {
            out.write(data);
        }
        out.write(e.payload());
    }

    /** Sends what is buffered. */
    void flush() throws IOException {
        out.flush();
    }

    /** Writes and flushes one event. */
    void send(WyomingEvent e) throws IOException {
        write(e);
        flush();
    }

    /** When the write to the client in progress began ({@link System#nanoTime()}), or 0 when none is. */
    long blockedSince() {
        return watched.blockedSince;
    }

    private static final class Watched extends FilterOutputStream {
        private volatile long blockedSince;

        Watched(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            blockedSince = System.nanoTime();
            try {
                out.write(b, off, len);
            } finally {
                blockedSince = 0;
            }
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void flush() throws IOException {
            blockedSince = System.nanoTime();
            try {
                out.flush();
            } finally {
                blockedSince = 0;
            }
        }
    }
}
