package dev.localai.tts.server.wyoming;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Objects;

/**
 * One Wyoming event: its type, its data (the header's {@code data} merged with the extra data bytes) and its binary
 * payload (empty when none).
 *
 * @param type    the event type, e.g. {@code synthesize}
 * @param data    the event's data, never {@code null}
 * @param payload the binary payload, never {@code null}
 */
record WyomingEvent(String type, ObjectNode data, byte[] payload) {
    static final String DESCRIBE = "describe";
    static final String INFO = "info";
    static final String SYNTHESIZE = "synthesize";
    static final String SYNTHESIZE_START = "synthesize-start";
    static final String SYNTHESIZE_CHUNK = "synthesize-chunk";
    static final String SYNTHESIZE_STOP = "synthesize-stop";
    static final String SYNTHESIZE_STOPPED = "synthesize-stopped";
    static final String AUDIO_START = "audio-start";
    static final String AUDIO_CHUNK = "audio-chunk";
    static final String AUDIO_STOP = "audio-stop";
    static final String ERROR = "error";
    static final String PING = "ping";
    static final String PONG = "pong";

    private static final byte[] NONE = new byte[0];

    WyomingEvent {
        Objects.requireNonNull(type, "type");
        if (data == null) {
            data = JsonNodeFactory.instance.objectNode();
        }
        if (payload == null) {
            payload = NONE;
        }
    }

    /** An event with no data and no payload. */
    static WyomingEvent of(String type) {
        return new WyomingEvent(type, null, null);
    }

    /** An event with data and no payload. */
    static WyomingEvent of(String type, ObjectNode data) {
        return new WyomingEvent(type, data, null);
    }

    /** An {@code error} event. */
    static WyomingEvent error(String code, String text) {
        ObjectNode d = JsonNodeFactory.instance.objectNode();
        d.put("text", text);
        d.put("code", code);
        return of(ERROR, d);
    }

    /** A new empty data object. */
    static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }
}
