package dev.localai.tts.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A Wyoming client for the tests, written from the published protocol (not from the server's code): events are
 * written as the reference Python library writes them (header line with {@code type}, {@code version},
 * {@code data_length}, {@code payload_length}; then the data; then the payload) and read the way it reads them (the
 * header's {@code data} merged with the data bytes).
 */
final class WyomingClient implements Closeable {
    static final ObjectMapper JSON = new ObjectMapper();

    /** One received event. */
    record Event(String type, ObjectNode data, byte[] payload) {
        @Override
        public String toString() {
            return type + " " + data + (payload.length > 0 ? " +" + payload.length + " bytes" : "");
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    WyomingClient(int port) throws IOException {
        socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(120_000); // a safety net against a hang, never a timing assertion
        in = new BufferedInputStream(socket.getInputStream());
        out = socket.getOutputStream();
    }

    /** Sends an event; {@code data} may be {@code null}. */
    void send(String type, ObjectNode data) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        header.put("type", type);
        header.put("version", "1.7.2");
        byte[] dataBytes = null;
        if (data != null && !data.isEmpty()) {
            dataBytes = JSON.writeValueAsBytes(data);
            header.put("data_length", dataBytes.length);
        }
        out.write(JSON.writeValueAsBytes(header));
        out.write('\n');
        if (dataBytes != null) {
            out.write(dataBytes);
        }
        out.flush();
    }

    /** Sends raw bytes (for garbage). */
    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    void describe() throws IOException {
        send("describe", null);
    }

    void synthesize(String text, String voice) throws IOException {
        send("synthesize", textAndVoice(text, voice));
    }

    static ObjectNode textAndVoice(String text, String voice) {
        ObjectNode d = JSON.createObjectNode();
        if (text != null) {
            d.put("text", text);
        }
        if (voice != null) {
            d.putObject("voice").put("name", voice);
        }
        return d;
    }

    /** The next event, or {@code null} when the server closed the connection. */
    Event read() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) != '\n') {
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                throw new IOException("closed inside a header: " + line.toString(StandardCharsets.UTF_8));
            }
            line.write(b);
        }
        JsonNode header = JSON.readTree(line.toByteArray());
        ObjectNode data = JSON.createObjectNode();
        if (header.hasNonNull("data")) {
            data.setAll((ObjectNode) header.get("data"));
        }
        if (header.hasNonNull("data_length") && header.get("data_length").asInt() > 0) {
            data.setAll((ObjectNode) JSON.readTree(exactly(header.get("data_length").asInt())));
        }
        byte[] payload = header.hasNonNull("payload_length") ? exactly(header.get("payload_length").asInt())
                : new byte[0];
        return new Event(header.get("type").asText(), data, payload);
    }

    /** The next event, which must be there. */
    Event expect() throws IOException {
        Event e = read();
        if (e == null) {
            throw new IOException("the server closed the connection");
        }
        return e;
    }

    /** Events up to and including the first of type {@code last} (or an error, or the end of the connection). */
    List<Event> readUntil(String last) throws IOException {
        List<Event> events = new ArrayList<>();
        Event e;
        while ((e = read()) != null) {
            events.add(e);
            if (e.type().equals(last) || e.type().equals("error")) {
                break;
            }
        }
        return events;
    }

    private byte[] exactly(int n) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IOException("closed inside an event");
        }
        return b;
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    /** The PCM of the audio-chunk events among {@code events}, concatenated. */
    static byte[] pcm(List<Event> events) {
        ByteArrayOutputStream pcm = new ByteArrayOutputStream();
        events.stream().filter(e -> e.type().equals("audio-chunk")).forEach(e -> pcm.writeBytes(e.payload()));
        return pcm.toByteArray();
    }
}
