package dev.localai.tts.server.wyoming;

import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One client connection: reads events with the configured limits and idle timeout, hands them to its
 * {@link WyomingSession}, and on bad input or a refusal sends an {@code error} event and closes. Never lets an
 * exception escape: a client can neither see a stack trace nor take the server down.
 */
final class Connection implements Runnable {
    private static final Logger LOG = Logger.getLogger(Connection.class.getName());
    /** Longest header line accepted (the text normally travels in the data that follows it). */
    static final int MAX_LINE_BYTES = 64 * 1024;
    private static final long DRAIN_NANOS = 2_000_000_000L;
    private static final long MAX_DRAIN_BYTES = 1 << 20;

    private final Socket socket;
    private final EventReader in;
    private final EventWriter out;
    private final WyomingSession session;
    private final String peer;

    /**
     * @param socket       the accepted socket, its read timeout set
     * @param maxDataBytes largest data or payload of one event
     * @param sessions     makes the session that answers this connection's events
     */
    Connection(Socket socket, long maxDataBytes, Function<EventWriter, WyomingSession> sessions) throws IOException {
        this.socket = socket;
        this.peer = String.valueOf(socket.getRemoteSocketAddress());
        this.in = new EventReader(new BufferedInputStream(socket.getInputStream(), 16 * 1024), MAX_LINE_BYTES,
                maxDataBytes);
        this.out = new EventWriter(socket.getOutputStream());
        this.session = sessions.apply(out);
    }

    @Override
    public void run() {
        try {
            WyomingEvent e;
            while ((e = in.read()) != null) {
                session.handle(e);
            }
        } catch (WyomingException e) {
            LOG.fine(() -> "wyoming " + peer + ": " + e.code() + ": " + e.getMessage());
            refuse(e.code(), e.getMessage());
        } catch (SocketTimeoutException e) {
            refuse("timeout", "No event came for too long; closing the connection.");
        } catch (EOFException e) {
            LOG.fine(() -> "wyoming " + peer + ": " + e.getMessage());
        } catch (IOException e) {
            // the client went away (or stalled and was cut off)
            LOG.fine(() -> "wyoming " + peer + " gone: " + e);
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "wyoming " + peer + ": the connection failed", e);
            refuse("internal_error", "Internal server error; see the server log.");
        } finally {
            close();
        }
    }

    /**
     * Sends an {@code error} event if the client can still take it, then reads (and drops) what the client still
     * sends for a moment: closing with unread input would reset the connection and could lose the event.
     */
    void refuse(String code, String text) {
        try {
            out.send(WyomingEvent.error(code, text));
            socket.shutdownOutput();
            long deadline = System.nanoTime() + DRAIN_NANOS;
            socket.setSoTimeout((int) (DRAIN_NANOS / 1_000_000));
            byte[] sink = new byte[8192];
            long drained = 0;
            while (drained < MAX_DRAIN_BYTES && System.nanoTime() < deadline) {
                int n = socket.getInputStream().read(sink);
                if (n < 0) {
                    break;
                }
                drained += n;
            }
        } catch (IOException | RuntimeException ignored) {
            // the client is gone, or kept talking: the connection closes either way
        }
    }

    /** When a write to the client began and is still blocked ({@link System#nanoTime()}), or 0. */
    long blockedSince() {
        return out.blockedSince();
    }

    /** Closes the socket (unblocking any read or write in progress). Idempotent. */
    void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
