package dev.localai.tts.server.wyoming;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.api.Json;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** The framing: what the writer puts on the wire, and what the reader accepts and refuses. */
class EventCodecTest {

    private static EventReader reader(String wire) {
        return reader(wire.getBytes(StandardCharsets.UTF_8));
    }

    private static EventReader reader(byte[] wire) {
        return new EventReader(new ByteArrayInputStream(wire), 256, 1024);
    }

    @Test
    void writesTheHeaderLineThenTheDataThenThePayloadAsTheReferenceDoes() throws Exception {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        EventWriter w = new EventWriter(wire);
        var data = WyomingEvent.object();
        data.put("rate", 24000);
        data.put("text", "héllo");
        w.write(new WyomingEvent("audio-chunk", data, new byte[] {1, 2, 3}));
        w.send(WyomingEvent.of("synthesize-stopped"));
        byte[] bytes = wire.toByteArray();
        String s = new String(bytes, StandardCharsets.UTF_8);
        int nl = s.indexOf('\n');
        JsonNode header = Json.MAPPER.readTree(s.substring(0, nl));
        assertThat(header.get("type").asText()).isEqualTo("audio-chunk");
        assertThat(header.get("version").asText()).isEqualTo(EventWriter.PROTOCOL_VERSION);
        int dataLength = header.get("data_length").asInt();
        assertThat(header.get("payload_length").asInt()).isEqualTo(3);
        int dataStart = s.substring(0, nl + 1).getBytes(StandardCharsets.UTF_8).length;
        JsonNode d = Json.MAPPER.readTree(Arrays.copyOfRange(bytes, dataStart, dataStart + dataLength));
        assertThat(d.get("text").asText()).isEqualTo("héllo");
        assertThat(Arrays.copyOfRange(bytes, dataStart + dataLength, dataStart + dataLength + 3))
                .containsExactly(1, 2, 3);
        String second = new String(bytes, dataStart + dataLength + 3, bytes.length - dataStart - dataLength - 3,
                StandardCharsets.UTF_8);
        JsonNode stopped = Json.MAPPER.readTree(second.strip());
        assertThat(stopped.get("type").asText()).isEqualTo("synthesize-stopped");
        assertThat(stopped.has("data_length")).isFalse();
        assertThat(stopped.has("payload_length")).isFalse();
        assertThat(stopped.get("data").isObject()).isTrue(); // older readers need a data object
        assertThat(second).endsWith("\n");

        // and the reader reads it back
        EventReader r = reader(bytes);
        WyomingEvent e = r.read();
        assertThat(e.type()).isEqualTo("audio-chunk");
        assertThat(e.data().get("rate").asInt()).isEqualTo(24000);
        assertThat(e.payload()).containsExactly(1, 2, 3);
        assertThat(r.read().type()).isEqualTo("synthesize-stopped");
        assertThat(r.read()).isNull();
    }

    @Test
    void mergesInlineDataWithTheDataBytesSkipsBlankLinesAndToleratesCrLf() throws Exception {
        EventReader r = reader("\r\n\n"
                + "{\"type\":\"synthesize\",\"data\":{\"text\":\"a\",\"x\":1},\"data_length\":12}\r\n"
                + "{\"text\":\"b\"}{\"type\":\"describe\",\"data\":null,\"data_length\":null,\"payload_length\":0}\n");
        WyomingEvent e = r.read();
        assertThat(e.data().get("text").asText()).isEqualTo("b");
        assertThat(e.data().get("x").asInt()).isEqualTo(1);
        assertThat(r.read().type()).isEqualTo("describe");
        assertThat(r.read()).isNull();
    }

    @Test
    void refusesLongLinesAndLargeDataAsEventTooLarge() {
        assertThatThrownBy(() -> reader("{\"type\":\"" + "x".repeat(300) + "\"}\n").read())
                .isInstanceOf(WyomingException.class).hasMessageContaining("256 bytes")
                .satisfies(e -> assertThat(((WyomingException) e).code()).isEqualTo("event_too_large"));
        assertThatThrownBy(() -> reader("{\"type\":\"x\",\"data_length\":1025}\n").read())
                .satisfies(e -> assertThat(((WyomingException) e).code()).isEqualTo("event_too_large"));
        assertThatThrownBy(() -> reader("{\"type\":\"x\",\"payload_length\":1e10}\n").read())
                .isInstanceOf(WyomingException.class);
    }

    @Test
    void anEventCutShortIsAnEndOfStream() {
        assertThatThrownBy(() -> reader("{\"type\":\"x\"").read()).isInstanceOf(EOFException.class);
        assertThatThrownBy(() -> reader("{\"type\":\"x\",\"payload_length\":5}\nabc").read())
                .isInstanceOf(EOFException.class);
    }

    @Test
    void typesMustBeShortStrings() {
        for (String bad : new String[] {"{\"type\":\"\"}\n", "{\"type\":null}\n", "{\"type\":[]}\n",
            "{\"type\":\"" + "y".repeat(65) + "\"}\n", "{\"type\":\"x\",\"data_length\":1.5}\n", "null\n", "\"s\"\n"}) {
            assertThatThrownBy(() -> reader(bad).read()).as(bad).isInstanceOf(WyomingException.class)
                    .satisfies(e -> assertThat(((WyomingException) e).code()).isEqualTo("invalid_event"));
        }
    }
}
