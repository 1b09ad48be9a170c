package dev.localai.tts.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.annotation.JsonSerialize;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;

import java.io.IOException;
import java.util.Objects;

/**
 * The {@code voice} of a speech request: either a name string ({@code "alloy"}, a library voice name) or an object
 * {@code {"id": "voice_123"}} naming a custom voice. Serialised back in the shape it came in.
 *
 * @param value the name or id, never blank
 * @param byId  {@code true} when given as {@code {"id": ...}}
 */
@JsonSerialize(using = VoiceRef.Serializer.class)
@JsonDeserialize(using = VoiceRef.Deserializer.class)
public record VoiceRef(String value, boolean byId) {
    public VoiceRef {
        Objects.requireNonNull(value, "value");
        if (value.isBlank()) {
            throw new IllegalArgumentException("a voice name or id must not be blank");
        }
    }

    public static VoiceRef name(String name) {
        return new VoiceRef(name, false);
    }

    public static VoiceRef id(String id) {
        return new VoiceRef(id, true);
    }

    static final class Serializer extends StdSerializer<VoiceRef> {
        private static final long serialVersionUID = 1L;

        Serializer() {
            super(VoiceRef.class);
        }

        @Override
        public void serialize(VoiceRef v, JsonGenerator g, SerializerProvider p) throws IOException {
            if (v.byId()) {
                g.writeStartObject();
                g.writeStringField("id", v.value());
                g.writeEndObject();
            } else {
                g.writeString(v.value());
            }
        }
    }

    static final class Deserializer extends StdDeserializer<VoiceRef> {
        private static final long serialVersionUID = 1L;

        Deserializer() {
            super(VoiceRef.class);
        }

        @Override
        public VoiceRef deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
            JsonNode n = ctx.readTree(p);
            if (n.isTextual()) {
                return name(n.asText());
            }
            if (n.isObject() && n.get("id") != null && n.get("id").isTextual()) {
                return id(n.get("id").asText());
            }
            throw com.fasterxml.jackson.databind.exc.MismatchedInputException.from(p, VoiceRef.class,
                    "'voice' must be a string or an object {\"id\": \"...\"}");
        }
    }
}
