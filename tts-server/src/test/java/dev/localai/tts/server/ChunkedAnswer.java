package dev.localai.tts.server;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A chunked HTTP/1.1 answer read off a raw socket on loopback, its trailers included (the JDK's client drops them):
 * the status line, the headers and the trailers with lower-case names, and the de-chunked body.
 */
record ChunkedAnswer(String status, Map<String, String> headers, byte[] body, Map<String, String> trailers) {

    /** POSTs {@code json} to {@code path} on {@code port} and reads the whole chunked answer. */
    static ChunkedAnswer post(int port, String path, String json) throws IOException {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(120_000); // a safety net against a hang, not a timing assertion
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            socket.getOutputStream().write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().write(body);
            DataInputStream in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            String status = line(in);
            Map<String, String> headers = fields(in);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if ("chunked".equalsIgnoreCase(headers.get("transfer-encoding"))) {
                for (int n = Integer.parseInt(line(in).trim(), 16); n > 0; n = Integer.parseInt(line(in).trim(), 16)) {
                    out.write(in.readNBytes(n));
                    if (!line(in).isEmpty()) {
                        throw new IOException("a chunk of " + n + " bytes did not end with CRLF");
                    }
                }
                return new ChunkedAnswer(status, headers, out.toByteArray(), fields(in));
            }
            return new ChunkedAnswer(status, headers, out.toByteArray(), Map.of());
        }
    }

    /** Header or trailer lines up to the empty one, names lower-cased. */
    private static Map<String, String> fields(DataInputStream in) throws IOException {
        Map<String, String> m = new HashMap<>();
        for (String l = line(in); !l.isEmpty(); l = line(in)) {
            m.put(l.substring(0, l.indexOf(':')).toLowerCase(Locale.ROOT), l.substring(l.indexOf(':') + 1).trim());
        }
        return m;
    }

    private static String line(DataInputStream in) throws IOException {
        StringBuilder sb = new StringBuilder();
        int c;
        while ((c = in.read()) != -1 && c != '\n') {
            if (c != '\r') {
                sb.append((char) c);
            }
        }
        return sb.toString();
    }
}
