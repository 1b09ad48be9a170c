package dev.localai.tts.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A raw HTTP/1.1 client on loopback for the probes the JDK client cannot send (any Host, broken chunking, aborted
 * bodies): it writes bytes as given and reads what comes back until the server closes the socket or a generous
 * read timeout passes. "Closed" means the server ended the connection; a hang shows as {@code closed == false}.
 */
final class RawHttp implements AutoCloseable {
    /** Far longer than any answer takes; only a server that never closes runs into it. */
    static final int READ_TIMEOUT_MS = 15_000;

    private final Socket socket;

    RawHttp(int port) {
        try {
            socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5000);
            socket.setSoTimeout(READ_TIMEOUT_MS);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** What came back. */
    record Answer(int status, Map<String, String> headers, String body, boolean closed) {
        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    RawHttp send(String text) {
        return send(text.getBytes(StandardCharsets.ISO_8859_1));
    }

    /** Sends a POST of {@code json} (UTF-8) to {@code path}, the connection kept open. */
    RawHttp post(String path, String json) {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        send("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n");
        return send(body);
    }

    RawHttp send(byte[] bytes) {
        try {
            socket.getOutputStream().write(bytes);
            socket.getOutputStream().flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return this;
    }

    /** Reads one response (status, headers, a Content-Length body) and then whether the server closed after it. */
    Answer answer() {
        try {
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            if (head == null) {
                return new Answer(0, Map.of(), "", true);
            }
            String[] lines = head.split("\r\n");
            Map<String, String> h = fields(lines);
            int len = Integer.parseInt(h.getOrDefault("content-length", "0"));
            byte[] body = in.readNBytes(len);
            return new Answer(status(lines[0]), h, new String(body, StandardCharsets.UTF_8), closedByServer());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A chunked response: its status, headers, de-chunked body and trailers (names lower-cased). */
    record Chunked(int status, Map<String, String> headers, byte[] body, Map<String, String> trailers) {}

    /**
     * Reads one response with a chunked body, and the trailers after its last chunk (the JDK's client drops them);
     * a response without chunks gives its Content-Length body and no trailers.
     */
    Chunked chunkedAnswer() {
        try {
            InputStream in = socket.getInputStream();
            String head = readHead(in);
            if (head == null) {
                throw new IOException("the server closed the connection without an answer");
            }
            String[] lines = head.split("\r\n");
            Map<String, String> h = fields(lines);
            if (!"chunked".equalsIgnoreCase(h.get("transfer-encoding"))) {
                byte[] body = in.readNBytes(Integer.parseInt(h.getOrDefault("content-length", "0")));
                return new Chunked(status(lines[0]), h, body, Map.of());
            }
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            for (int n = Integer.parseInt(line(in).trim(), 16); n > 0; n = Integer.parseInt(line(in).trim(), 16)) {
                body.write(in.readNBytes(n));
                if (!line(in).isEmpty()) {
                    throw new IOException("a chunk of " + n + " bytes did not end with CRLF");
                }
            }
            java.util.List<String> trailer = new java.util.ArrayList<>(java.util.List.of(""));
            for (String l = line(in); !l.isEmpty(); l = line(in)) {
                trailer.add(l);
            }
            return new Chunked(status(lines[0]), h, body.toByteArray(), fields(trailer.toArray(String[]::new)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int status(String statusLine) {
        return Integer.parseInt(statusLine.split(" ")[1]);
    }

    /** The {@code name: value} lines after the first (a status line), names lower-cased. */
    private static Map<String, String> fields(String[] lines) {
        Map<String, String> h = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int c = lines[i].indexOf(':');
            if (c > 0) {
                h.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
            }
        }
        return h;
    }

    /** One line up to LF, without its CR LF. */
    private static String line(InputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = in.read(); c != -1 && c != '\n'; c = in.read()) {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }

    /** Whether the server closes the connection (EOF or reset) before the read timeout. */
    boolean closedByServer() {
        try {
            return socket.getInputStream().read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset by the server
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int state = 0;
        while (true) {
            int b = in.read();
            if (b < 0) {
                return out.size() == 0 ? null : out.toString(StandardCharsets.ISO_8859_1);
            }
            out.write(b);
            state = (b == '\r' && (state == 0 || state == 2)) || (b == '\n' && (state == 1 || state == 3))
                    ? state + 1 : (b == '\r' ? 1 : 0);
            if (state == 4) {
                return out.toString(StandardCharsets.ISO_8859_1);
            }
        }
    }

    /** Reads the response's head (status line and headers) and no more: the body's bytes stay to be read. */
    String head() {
        try {
            return readHead(socket.getInputStream());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One byte of what follows, or -1 at the end. */
    int read() {
        try {
            return socket.getInputStream().read();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Closes the client side at once (RST when data is unread): an aborting client. */
    void abort() {
        try {
            socket.setSoLinger(true, 0);
            socket.close();
        } catch (IOException ignored) {
            // gone either way
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
