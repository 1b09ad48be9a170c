package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.api.Json;
import dev.localai.tts.core.audio.encode.TestAudio;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code stream_format: "sse"}: only delta events and one done event; the deltas reassemble to valid audio. */
class SseTest {
    static Http http;

    @BeforeAll
    static void start() {
        http = new Http(TestServers.shared());
    }

    /** Parses an SSE body into the JSON of its data lines, checking the framing. */
    static List<JsonNode> events(byte[] body) throws Exception {
        String text = new String(body, StandardCharsets.UTF_8);
        assertThat(text).endsWith("\n\n");
        List<JsonNode> out = new ArrayList<>();
        for (String block : text.split("\n\n")) {
            if (block.isBlank()) {
                continue;
            }
            StringBuilder data = new StringBuilder();
            for (String line : block.split("\n")) {
                assertThat(line).startsWith("data: ");
                data.append(line.substring(6));
            }
            out.add(Json.MAPPER.readTree(data.toString()));
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"pcm", "wav", "mp3", "opus"})
    void deltasThenOneDoneReassembleToTheAudio(String format) throws Exception {
        String req = "{\"model\":\"gpt-4o-mini-tts\",\"input\":\"Events, please. Two sentences.\",\"voice\":\"alloy\","
                + "\"seed\":3,\"stream_format\":\"sse\",\"response_format\":\"" + format + "\"}";
        // the OpenAI SDKs send Accept: application/octet-stream even for SSE: the body field decides
        HttpResponse<byte[]> r = http.send(http.request("/v1/audio/speech").header("Content-Type", "application/json")
                .header("Accept", "application/octet-stream")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(req)).build());
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(v -> assertThat(v)
                .startsWith("text/event-stream"));
        List<JsonNode> events = events(r.body());
        assertThat(events.size()).isGreaterThanOrEqualTo(2);
        ByteArrayOutputStream audio = new ByteArrayOutputStream();
        for (int i = 0; i < events.size() - 1; i++) {
            JsonNode e = events.get(i);
            assertThat(e.fieldNames()).toIterable().containsExactlyInAnyOrder("type", "audio");
            assertThat(e.get("type").asText()).isEqualTo("speech.audio.delta");
            audio.write(Base64.getDecoder().decode(e.get("audio").asText()));
        }
        JsonNode done = events.get(events.size() - 1);
        assertThat(done.get("type").asText()).isEqualTo("speech.audio.done");
        JsonNode usage = done.get("usage");
        assertThat(usage.get("input_tokens").asLong()).isPositive();
        assertThat(usage.get("output_tokens").asLong()).isPositive();
        assertThat(usage.get("total_tokens").asLong())
                .isEqualTo(usage.get("input_tokens").asLong() + usage.get("output_tokens").asLong());

        HttpResponse<byte[]> file = http.speech(req.replace("\"stream_format\":\"sse\"", "\"stream\":false"));
        TestAudio.Decoded whole = TestAudio.decode(file.body(), format.equals("pcm"));
        TestAudio.Decoded reassembled = TestAudio.decode(audio.toByteArray(), format.equals("pcm"));
        assertThat(reassembled.seconds()).isPositive();
        assertThat(reassembled.seconds()).isCloseTo(whole.seconds(), org.assertj.core.data.Offset.offset(0.1));
    }
}
