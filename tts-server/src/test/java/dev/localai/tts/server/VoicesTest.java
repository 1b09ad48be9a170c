package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.TestAudio;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The voice library over HTTP: upload, list, speak with, preview, rename, delete; OpenAI names map to voices. */
class VoicesTest {
    static TtsServer server;
    static Http http;

    @BeforeAll
    static void start() {
        server = TestServers.startReady(TestServers.config().mapVoice("nova", "narrator").build());
        http = new Http(server);
    }

    @AfterAll
    static void stop() {
        server.shutdown();
    }

    static HttpResponse<byte[]> upload(Http http, String name, byte[] clip, String field) {
        String boundary = "----tts" + System.nanoTime();
        byte[] body = Clips.multipart(boundary, new Object[] {"name", null, name},
                new Object[] {field, "ref.wav", clip});
        return http.send(http.request("/v1/audio/voices")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    private static List<String> ids() {
        JsonNode n = Http.json(http.get("/v1/audio/voices"));
        List<String> ids = new ArrayList<>();
        n.get("voices").forEach(v -> ids.add(v.get("id").asText()));
        return ids;
    }

    @Test
    void uploadListSpeakPreviewRenameDelete() throws Exception {
        assertThat(ids()).containsExactly("default");
        // an OpenAI name mapped to a voice that does not exist yet: a precise 400
        JsonNode missing = Http.error(http.speech("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"nova\"}"), 400);
        assertThat(missing.get("param").asText()).isEqualTo("voice");
        assertThat(missing.get("message").asText()).contains("narrator");

        HttpResponse<byte[]> up = upload(http, "narrator", Clips.voiceLike(6.5, 1, AudioFormat.WAV), "audio_sample");
        assertThat(up.statusCode()).as(new String(up.body())).isEqualTo(201);
        JsonNode v = Http.json(up);
        assertThat(v.get("object").asText()).isEqualTo("audio.voice");
        assertThat(v.get("id").asText()).isEqualTo("narrator");
        assertThat(v.get("name").asText()).isEqualTo("narrator");
        assertThat(v.get("created_at").asLong()).isPositive();
        assertThat(ids()).containsExactly("default", "narrator");
        assertThat(Http.json(http.get("/v1/audio/voices?legacy=true")).get("voices").get(1).asText())
                .isEqualTo("narrator");
        assertThat(Http.json(http.get("/v1/audio/voices/narrator")).get("id").asText()).isEqualTo("narrator");

        for (String voice : new String[] {"\"narrator\"", "{\"id\":\"narrator\"}", "\"nova\""}) {
            HttpResponse<byte[]> r = http.speech("{\"model\":\"tts-1\",\"input\":\"Cloned.\",\"voice\":" + voice
                    + ",\"response_format\":\"wav\",\"stream\":false}");
            assertThat(r.statusCode()).as(voice + ": " + new String(r.body())).isEqualTo(200);
            assertThat(TestAudio.decode(r.body(), false).seconds()).isPositive();
        }

        HttpResponse<byte[]> preview = http.get("/v1/audio/voices/narrator/preview?response_format=wav");
        assertThat(preview.statusCode()).as(new String(preview.body())).isEqualTo(200);
        assertThat(preview.headers().firstValue("content-type")).hasValue("audio/wav");
        assertThat(TestAudio.decode(preview.body(), false).seconds()).isPositive();
        assertThat(http.get("/v1/audio/voices/default/preview").headers().firstValue("content-type"))
                .hasValue("audio/mpeg");

        HttpResponse<byte[]> renamed = http.send(http.request("/v1/audio/voices/narrator")
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"name\":\"storyteller\"}")).build());
        assertThat(renamed.statusCode()).as(new String(renamed.body())).isEqualTo(200);
        assertThat(Http.json(renamed).get("id").asText()).isEqualTo("storyteller");
        assertThat(ids()).containsExactly("default", "storyteller");
        assertThat(http.speech("{\"model\":\"tts-1\",\"input\":\"Renamed.\",\"voice\":\"storyteller\","
                + "\"response_format\":\"pcm\"}").statusCode()).isEqualTo(200);

        HttpResponse<byte[]> deleted = http.send(http.request("/v1/audio/voices/storyteller").DELETE().build());
        assertThat(deleted.statusCode()).isEqualTo(200);
        assertThat(Http.json(deleted).get("deleted").asBoolean()).isTrue();
        assertThat(ids()).containsExactly("default");
        Http.error(http.send(http.request("/v1/audio/voices/storyteller").DELETE().build()), 404);
    }

    @Test
    void uploadErrorsArePrecise() {
        byte[] good = Clips.voiceLike(6.5, 2, AudioFormat.WAV);
        JsonNode shortClip = Http.error(upload(http, "shorty", Clips.voiceLike(2, 3, AudioFormat.WAV),
                "audio_sample"), 400);
        assertThat(shortClip.get("param").asText()).isEqualTo("audio_sample");
        assertThat(shortClip.get("message").asText()).containsIgnoringCase("5");
        JsonNode garbage = Http.error(upload(http, "garbage", "this is not audio at all".repeat(100).getBytes(),
                "audio_sample"), 400);
        assertThat(garbage.get("param").asText()).isEqualTo("audio_sample");
        JsonNode badName = Http.error(upload(http, "../etc/passwd", good, "audio_sample"), 400);
        assertThat(badName.get("message").asText()).contains("name");
        JsonNode builtIn = Http.error(upload(http, "default", good, "audio_sample"), 409);
        assertThat(builtIn.get("param").asText()).isEqualTo("name");
        JsonNode noFile = Http.error(upload(http, "nofile", good, "something_else"), 400);
        assertThat(noFile.get("param").asText()).isEqualTo("audio_sample");
        JsonNode empty = Http.error(upload(http, "empty", new byte[0], "audio_sample"), 400);
        assertThat(empty.get("message").asText()).contains("empty");

        String boundary = "b0undary";
        byte[] noName = Clips.multipart(boundary, new Object[] {"audio_sample", "a.wav", good});
        JsonNode nn = Http.error(http.send(http.request("/v1/audio/voices")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(noName)).build()), 400);
        assertThat(nn.get("param").asText()).isEqualTo("name");
        JsonNode truncated = Http.error(http.send(http.request("/v1/audio/voices")
                .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(java.util.Arrays.copyOf(noName, 200))).build()), 400);
        assertThat(truncated.get("code").asText()).isEqualTo("invalid_multipart");
        JsonNode noBoundary = Http.error(http.send(http.request("/v1/audio/voices")
                .header("Content-Type", "multipart/form-data")
                .POST(HttpRequest.BodyPublishers.ofByteArray(noName)).build()), 400);
        assertThat(noBoundary.get("message").asText()).contains("boundary");
        Http.error(http.postJson("/v1/audio/voices", "{\"name\":\"x\"}"), 415);
        JsonNode tooBig = Http.error(upload(http, "huge", new byte[11 << 20], "audio_sample"), 413);
        assertThat(tooBig.get("message").asText()).contains(Long.toString(10L << 20));

        assertThat(upload(http, "twice", good, "file").statusCode()).isEqualTo(201);
        JsonNode dup = Http.error(upload(http, "twice", good, "audio_sample"), 409);
        assertThat(dup.get("message").asText()).contains("twice");
        assertThat(http.send(http.request("/v1/audio/voices/twice").DELETE().build()).statusCode()).isEqualTo(200);
    }

    @Test
    void managementErrorsArePrecise() {
        Http.error(http.send(http.request("/v1/audio/voices/default").DELETE().build()), 403);
        Http.error(http.send(http.request("/v1/audio/voices/nobody").DELETE().build()), 404);
        Http.error(http.get("/v1/audio/voices/nobody"), 404);
        Http.error(http.get("/v1/audio/voices/nobody/preview"), 404);
        Http.error(http.get("/v1/audio/voices/default/preview?response_format=ogg"), 400);
        HttpRequest.Builder patch = http.request("/v1/audio/voices/default").header("Content-Type", "application/json");
        Http.error(http.send(patch.method("PATCH", HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}")).build()),
                403);
        Http.error(http.send(http.request("/v1/audio/voices/nobody").header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{\"name\":\"x\"}")).build()), 404);
        JsonNode noName = Http.error(http.send(http.request("/v1/audio/voices/default")
                .header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{}")).build()), 400);
        assertThat(noName.get("param").asText()).isEqualTo("name");
        Http.error(http.send(http.request("/v1/audio/voices/default").header("Content-Type", "application/json")
                .method("PATCH", HttpRequest.BodyPublishers.ofString("{oops")).build()), 400);
    }
}
