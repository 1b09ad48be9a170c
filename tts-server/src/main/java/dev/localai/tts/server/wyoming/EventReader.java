package dev.localai.tts.server.wyoming;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.api.Json;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

/**
 * Reads Wyoming events from a byte stream, within limits: a header line of at most {@code maxLineBytes}, extra data
 * and payload of at most {@code maxDataBytes} each. Anything that is not a well-formed event is a
 * {@link WyomingException} ({@code invalid_event} or {@code event_too_large}); the stream cannot be resynchronised
 * after one, so the caller closes the connection.
 */
final class EventReader {
    private static final int MAX_TYPE_CHARS = 64;

    private final InputStream in;
    private final int maxLineBytes;
    private final long maxDataBytes;

    /**
     * @param in           a buffered stream
     * @param maxLineBytes longest header line (without its newline)
     * @param maxDataBytes largest {@code data_length} and {@code payload_length}
     */
    EventReader(InputStream in, int maxLineBytes, long maxDataBytes) {
        this.in = in;
        this.maxLineBytes = maxLineBytes;
        this.maxDataBytes = maxDataBytes;
    }

    /**
     * The next event, or {@code null} when the client closed the connection between events. Blank lines between
     * events are skipped.
     *
     * @throws EOFException       when the stream ends inside an event
     * @throws WyomingException   when the input is not a Wyoming event or is too large
     */
    WyomingEvent read() throws IOException {
        byte[] line;
        do {
            line = readLine();
            if (line == null) {
                return null;
            }
        } while (isBlank(line));
        JsonNode header = parse(line, "the header line");
        if (!(header instanceof ObjectNode h)) {
            throw invalid("the header line is not a JSON object");
        }
        JsonNode type = h.get("type");
        if (type == null || !type.isTextual() || type.asText().isBlank() || type.asText().length() > MAX_TYPE_CHARS) {
            throw invalid("the header has no event \"type\" (a string of 1-" + MAX_TYPE_CHARS + " characters)");
        }
        ObjectNode data = WyomingEvent.object();
        JsonNode inline = h.get("data");
        if (inline != null && !inline.isNull()) {
            if (!(inline instanceof ObjectNode o)) {
                throw invalid("\"data\" must be a JSON object");
            }
            data.setAll(o);
        }
        long dataLength = length(h, "data_length");
        if (dataLength > 0) {
            JsonNode extra = parse(readExactly(dataLength), "the event data");
            if (!(extra instanceof ObjectNode o)) {
                throw invalid("the event data is not a JSON object");
            }
            data.setAll(o);
        }
        long payloadLength = length(h, "payload_length");
        byte[] payload = payloadLength > 0 ? readExactly(payloadLength) : null;
        return new WyomingEvent(type.asText(), data, payload);
    }

    private long length(ObjectNode h, String field) {
        JsonNode n = h.get(field);
        if (n == null || n.isNull()) {
            return 0;
        }
        if (!n.canConvertToExactIntegral() || !n.canConvertToLong() || n.asLong() < 0) {
            throw invalid("\"" + field + "\" must be a non-negative integer");
        }
        long v = n.asLong();
        if (v > maxDataBytes) {
            throw new WyomingException("event_too_large", "\"" + field + "\" is " + v + " bytes; at most "
                    + maxDataBytes + " are accepted");
        }
        return v;
    }

    private byte[] readLine() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        while (true) {
            int b = in.read();
            if (b < 0) {
                if (line.size() == 0) {
                    return null;
                }
                throw new EOFException("the connection closed inside an event header");
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int n = bytes.length;
                return n > 0 && bytes[n - 1] == '\r' ? java.util.Arrays.copyOf(bytes, n - 1) : bytes;
            }
            if (line.size() >= maxLineBytes) {
                throw new WyomingException("event_too_large", "the header line is longer than " + maxLineBytes
                        + " bytes");
            }
            line.write(b);
        }
    }

    private byte[] readExactly(long n) throws IOException {
        byte[] b = in.readNBytes((int) n);
        if (b.length < n) {
            throw new EOFException("the connection closed inside an event");
        }
        return b;
    }

    private static JsonNode parse(byte[] bytes, String what) {
        try {
            JsonNode n = Json.MAPPER.readTree(bytes);
            if (n == null || n.isMissingNode()) {
                throw invalid(what + " is empty");
            }
            return n;
        } catch (JacksonException e) {
            throw invalid(what + " is not valid JSON");
        } catch (IOException e) {
            throw invalid(what + " cannot be read");
        }
    }

    private static boolean isBlank(byte[] line) {
        for (byte b : line) {
            if (b != ' ' && b != '\t' && b != '\r') {
                return false;
            }
        }
        return true;
    }

    private static WyomingException invalid(String why) {
        return new WyomingException("invalid_event", "Not a Wyoming event: " + why + ".");
    }
}
