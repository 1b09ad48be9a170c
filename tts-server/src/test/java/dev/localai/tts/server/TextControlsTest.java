package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The text controls over HTTP: the other Chatterbox servers' knobs accepted with a warning header, the tag listing,
 * pause tags in the input, and a configured voice map that the voice listing shows and speech honours.
 */
class TextControlsTest {
    static TtsServer server;
    static Http http;

    @BeforeAll
    static void start() {
        server = TestServers.startReady(TestServers.config().mapVoice("narrator", "default").build());
        http = new Http(server);
    }

    @AfterAll
    static void stop() {
        server.shutdown();
    }

    @Test
    void exaggerationAndCfgWeightAreAcceptedIgnoredAndReported() {
        HttpResponse<byte[]> r = http.speech("{\"model\":\"tts-1\",\"input\":\"Hi.\",\"voice\":\"alloy\","
                + "\"response_format\":\"wav\",\"stream\":false,\"exaggeration\":0.7,\"cfg_weight\":0.3}");
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.headers().firstValue("x-tts-warning"))
                .hasValue("exaggeration and cfg_weight are ignored by Chatterbox Turbo");
        assertThat(new String(r.body(), 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("RIFF");

        HttpResponse<byte[]> streamed = http.speech("{\"model\":\"tts-1\",\"input\":\"Hi.\",\"voice\":\"alloy\","
                + "\"response_format\":\"pcm\",\"exaggeration\":0.5}");
        assertThat(streamed.statusCode()).isEqualTo(200);
        assertThat(streamed.headers().firstValue("x-tts-warning"))
                .hasValue("exaggeration is ignored by Chatterbox Turbo");

        HttpResponse<byte[]> plain = http.speech("{\"model\":\"tts-1\",\"input\":\"Hi.\",\"voice\":\"alloy\","
                + "\"response_format\":\"pcm\"}");
        assertThat(plain.headers().firstValue("x-tts-warning")).isEmpty();
    }

    @Test
    void theTagListingHasTheNineteenTagsAndThePauseSyntax() {
        HttpResponse<byte[]> r = http.get("/v1/audio/tags");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode n = Http.json(r);
        List<String> tags = new ArrayList<>();
        n.get("tags").forEach(t -> tags.add(t.get("tag").asText()));
        assertThat(tags).hasSize(19).doesNotHaveDuplicates().contains("[laugh]", "[sigh]", "[clear throat]",
                "[whispering]", "[advertisement]");
        assertThat(n.get("tags").findValuesAsText("kind")).containsOnly("sound", "delivery");
        assertThat(n.get("pause").get("syntax").asText()).isEqualTo("[pause:0.5s]");
        assertThat(n.get("pause").get("max_seconds").asDouble()).isEqualTo(10.0);
        assertThat(Http.error(http.postJson("/v1/audio/tags", "{}"), 405).get("type").asText())
                .isEqualTo("invalid_request_error");
    }

    @Test
    void aPauseTagAddsItsSilenceToTheAudio() {
        HttpResponse<byte[]> r = http.speech("{\"model\":\"tts-1\",\"input\":\"One. [pause:0.5s] Two.\","
                + "\"voice\":\"alloy\",\"response_format\":\"pcm\",\"stream\":false,\"seed\":3}");
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        byte[] pcm = r.body();
        int best = 0;
        int run = 0;
        for (int i = 0; i + 1 < pcm.length; i += 2) {
            run = pcm[i] == 0 && pcm[i + 1] == 0 ? run + 1 : 0;
            best = Math.max(best, run);
        }
        assertThat(best).as("silent samples in a row").isGreaterThanOrEqualTo(12_000);
    }

    @Test
    void theVoiceMapIsListedAndItsNamesSpeak() {
        JsonNode list = Http.json(http.get("/v1/audio/voices"));
        assertThat(list.get("voice_map").get("narrator").asText()).isEqualTo("default");
        assertThat(list.get("voice_map").get("alloy").asText()).isEqualTo("default");
        assertThat(list.get("voices").findValuesAsText("id")).contains("default").doesNotContain("narrator");
        HttpResponse<byte[]> r = http.speech("{\"model\":\"tts-1\",\"input\":\"Hi.\",\"voice\":\"narrator\","
                + "\"response_format\":\"pcm\"}");
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.body().length).isPositive();
    }
}
