package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.core.engine.api.AudioFormat;
import dev.localai.tts.server.WyomingClient.Event;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Wyoming endpoint against the real engine on the tiny checkpoint, through a client that speaks the published
 * protocol over loopback: describe/info, synthesize (the same PCM as the HTTP API), the streamed form Home
 * Assistant uses, and every refusal (an error event, the connection closed, the server unharmed).
 */
class WyomingTest {
    private static TtsServer server;
    private static int port;

    @BeforeAll
    static void start() {
        server = TestServers.startReady(TestServers.config().wyomingEnabled(true).wyomingPort(0)
                .wyomingMaxTextChars(300).build());
        port = server.wyomingPort().orElseThrow();
    }

    @AfterAll
    static void stop() {
        server.shutdown();
    }

    @Test
    void describeListsTheBuiltInVoiceAndTheLibraryAsOneStreamingTtsProgram() throws Exception {
        assertThat(VoicesTest.upload(new Http(server), "kitchen", Clips.voiceLike(6.5, 7, AudioFormat.WAV),
                "audio_sample").statusCode()).isEqualTo(201);
        try (WyomingClient c = new WyomingClient(port)) {
            c.describe();
            Event info = c.expect();
            assertThat(info.type()).isEqualTo("info");
            assertThat(info.data().get("tts")).hasSize(1);
            for (String other : List.of("asr", "handle", "intent", "wake", "mic", "snd")) {
                assertThat(info.data().get(other).isArray()).as(other).isTrue();
                assertThat(info.data().get(other)).as(other).isEmpty();
            }
            JsonNode program = info.data().get("tts").get(0);
            assertThat(program.get("name").asText()).isEqualTo("chatterbox-turbo");
            assertThat(program.get("description").asText()).isNotBlank();
            assertThat(program.get("attribution").get("name").asText()).isEqualTo("Resemble AI");
            assertThat(program.get("attribution").get("url").asText()).startsWith("https://");
            assertThat(program.get("installed").asBoolean()).isTrue();
            assertThat(program.get("supports_synthesize_streaming").asBoolean()).isTrue();
            List<String> names = new ArrayList<>();
            for (JsonNode v : program.get("voices")) {
                names.add(v.get("name").asText());
                assertThat(v.get("installed").asBoolean()).isTrue();
                assertThat(v.get("description").asText()).isNotBlank();
                assertThat(v.get("attribution").get("name").isTextual()).isTrue();
                assertThat(v.get("attribution").get("url").isTextual()).isTrue();
                assertThat(v.get("languages")).extracting(JsonNode::asText).containsExactly("en");
                assertThat(v.has("version")).isTrue();
            }
            assertThat(names.get(0)).isEqualTo("default");
            assertThat(names).contains("kitchen");

            // the connection stays open for more events, as with the reference servers
            c.synthesize("In the kitchen voice.", "kitchen");
            List<Event> audio = c.readUntil("audio-stop");
            assertThat(audio.get(audio.size() - 1).type()).isEqualTo("audio-stop");
            assertThat(WyomingClient.pcm(audio)).isNotEmpty();
        }
    }

    @Test
    void synthesizeStreamsSixteenBitMonoAt24kHzIdenticalToTheHttpPcmAndIsCounted() throws Exception {
        String text = "Hello from Home Assistant. The kitchen light is on.";
        byte[] http = new Http(server).speech("{\"input\":\"" + text + "\",\"voice\":\"default\","
                + "\"response_format\":\"pcm\"}").body();
        try (WyomingClient c = new WyomingClient(port)) {
            c.synthesize(text, null);
            List<Event> events = c.readUntil("audio-stop");
            assertThat(events.get(0).type()).isEqualTo("audio-start");
            assertThat(events.get(events.size() - 1).type()).isEqualTo("audio-stop");
            List<Event> chunks = events.subList(1, events.size() - 1);
            assertThat(chunks).isNotEmpty().allSatisfy(e -> {
                assertThat(e.type()).isEqualTo("audio-chunk");
                assertThat(e.payload().length % 2).isZero();
                assertThat(e.payload().length).isBetween(2, 2048);
            });
            for (Event e : events.subList(0, events.size() - 1)) {
                assertThat(e.data().get("rate").asInt()).isEqualTo(24000);
                assertThat(e.data().get("width").asInt()).isEqualTo(2);
                assertThat(e.data().get("channels").asInt()).isEqualTo(1);
            }
            byte[] pcm = WyomingClient.pcm(events);
            assertThat(pcm.length).isGreaterThan(24000 * 2 / 10);
            assertThat(pcm).isEqualTo(http);

            c.describe(); // still open
            assertThat(c.expect().type()).isEqualTo("info");
        }
        String metrics = new String(new Http(server).get("/metrics").body(), StandardCharsets.UTF_8);
        assertThat(metrics).contains("mode=\"wyoming\"");
    }

    @Test
    void theStreamedFormSpeaksEachSentenceAsItCompletesAndIgnoresTheCompatibilityCopy() throws Exception {
        byte[] first;
        try (WyomingClient c = new WyomingClient(port)) {
            c.synthesize("Hello there.", null);
            first = WyomingClient.pcm(c.readUntil("audio-stop"));
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.send("synthesize-start", JSON().put("unused", 1));
            for (String part : new String[] {"Hello th", "ere. How are", " you today? I am", " fine"}) {
                ObjectNode d = JSON();
                d.put("text", part);
                c.send("synthesize-chunk", d);
            }
            c.synthesize("Hello there. How are you today? I am fine", null); // Home Assistant's copy for old servers
            c.send("synthesize-stop", null);
            List<Event> events = c.readUntil("synthesize-stopped");
            assertThat(events).extracting(Event::type).doesNotContain("error").endsWith("synthesize-stopped");
            List<List<Event>> segments = segments(events);
            assertThat(segments).hasSize(3); // "Hello there." / "How are you today?" / "I am fine"
            assertThat(WyomingClient.pcm(segments.get(0))).isEqualTo(first);
            assertThat(segments).allSatisfy(s -> assertThat(WyomingClient.pcm(s)).isNotEmpty());

            // a stream with no text at all still ends properly
            c.send("synthesize-start", null);
            c.send("synthesize-stop", null);
            assertThat(c.expect().type()).isEqualTo("synthesize-stopped");
        }
    }

    @Test
    void aVoiceByItsOpenAiNameOrByLanguageAloneIsAccepted() throws Exception {
        try (WyomingClient c = new WyomingClient(port)) {
            c.synthesize("Mapped.", "alloy");
            assertThat(c.readUntil("audio-stop")).extracting(Event::type).endsWith("audio-stop");
            ObjectNode d = JSON();
            d.put("text", "By language.");
            d.putObject("voice").put("language", "en");
            c.send("synthesize", d);
            assertThat(c.readUntil("audio-stop")).extracting(Event::type).endsWith("audio-stop");
        }
    }

    @Test
    void pingIsAnsweredWithPongAndOtherServicesEventsAreIgnored() throws Exception {
        try (WyomingClient c = new WyomingClient(port)) {
            c.send("transcribe", JSON().put("language", "en"));
            ObjectNode d = JSON();
            d.put("text", "marco");
            c.send("ping", d);
            Event pong = c.expect();
            assertThat(pong.type()).isEqualTo("pong");
            assertThat(pong.data().get("text").asText()).isEqualTo("marco");
        }
    }

    @Test
    void anUnknownVoiceIsAnErrorNamingTheVoicesThenTheConnectionCloses() throws Exception {
        try (WyomingClient c = new WyomingClient(port)) {
            c.synthesize("Hello.", "nobody");
            Event e = c.expect();
            assertThat(e.type()).isEqualTo("error");
            assertThat(e.data().get("code").asText()).isEqualTo("voice_not_found");
            assertThat(e.data().get("text").asText()).contains("nobody").contains("default");
            assertThat(c.read()).isNull();
        }
        try (WyomingClient c = new WyomingClient(port)) {
            ObjectNode d = JSON();
            d.putObject("voice").put("name", "nobody");
            c.send("synthesize-start", d);
            assertError(c, "voice_not_found");
        }
    }

    @Test
    void emptyMissingOrTooLongTextIsAnError() throws Exception {
        for (String text : new String[] {"", "   "}) {
            try (WyomingClient c = new WyomingClient(port)) {
                c.synthesize(text, null);
                assertError(c, "empty_text");
            }
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.send("synthesize", JSON().put("text", 42));
            assertError(c, "invalid_event");
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.synthesize("word ".repeat(61), null);
            Event e = assertError(c, "text_too_long");
            assertThat(e.data().get("text").asText()).contains("300");
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.send("synthesize-start", null);
            ObjectNode d = JSON();
            d.put("text", "x".repeat(301));
            c.send("synthesize-chunk", d);
            assertError(c, "text_too_long");
        }
    }

    @Test
    void streamEventsOutOfOrderAreAnError() throws Exception {
        for (String type : new String[] {"synthesize-chunk", "synthesize-stop"}) {
            try (WyomingClient c = new WyomingClient(port)) {
                c.send(type, JSON().put("text", "Hi."));
                assertError(c, "unexpected_event");
            }
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.send("synthesize-start", null);
            c.send("synthesize-start", null);
            assertError(c, "unexpected_event");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "hello there\n",
        "{\"type\": \"describe\"\n",
        "[1, 2, 3]\n",
        "{\"data\": {}}\n",
        "{\"type\": 7}\n",
        "{\"type\": \"synthesize\", \"data\": \"text\"}\n",
        "{\"type\": \"describe\", \"data_length\": -1}\n",
        "{\"type\": \"describe\", \"data_length\": \"ten\"}\n",
        "{\"type\": \"describe\", \"data_length\": 2}\n[]",
        "{\"type\": \"describe\", \"data_length\": 3}\nxyz",
        "{\"type\": \"describe\", \"type\": \"describe\"}\n"})
    void garbageIsAnInvalidEventErrorAndTheServerCarriesOn(String garbage) throws Exception {
        try (WyomingClient c = new WyomingClient(port)) {
            c.sendRaw(garbage.getBytes(StandardCharsets.UTF_8));
            assertError(c, "invalid_event");
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.describe();
            assertThat(c.expect().type()).isEqualTo("info");
        }
    }

    @Test
    void oversizedEventsAreRefusedWithoutReadingThem() throws Exception {
        try (WyomingClient c = new WyomingClient(port)) {
            String endless = "{\"type\": \"describe\", \"pad\": \"" + "x".repeat(70 * 1024);
            c.sendRaw(endless.getBytes(StandardCharsets.UTF_8));
            assertError(c, "event_too_large");
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.sendRaw("{\"type\": \"audio-chunk\", \"payload_length\": 999999999}\n".getBytes(StandardCharsets.UTF_8));
            assertError(c, "event_too_large");
        }
        try (WyomingClient c = new WyomingClient(port)) {
            c.describe();
            assertThat(c.expect().type()).isEqualTo("info");
        }
    }

    static Event assertError(WyomingClient c, String code) throws Exception {
        Event e = c.expect();
        assertThat(e.type()).as(e.toString()).isEqualTo("error");
        assertThat(e.data().get("code").asText()).as(e.toString()).isEqualTo(code);
        assertThat(e.data().get("text").asText()).isNotBlank().doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(c.read()).isNull();
        return e;
    }

    private static ObjectNode JSON() {
        return WyomingClient.JSON.createObjectNode();
    }

    /** The audio-start ... audio-stop runs among {@code events}. */
    private static List<List<Event>> segments(List<Event> events) {
        List<List<Event>> out = new ArrayList<>();
        List<Event> current = null;
        for (Event e : events) {
            if (e.type().equals("audio-start")) {
                current = new ArrayList<>();
            }
            if (current != null) {
                current.add(e);
            }
            if (e.type().equals("audio-stop")) {
                out.add(current);
                current = null;
            }
        }
        return out;
    }
}
