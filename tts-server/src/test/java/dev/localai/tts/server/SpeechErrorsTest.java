package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every client mistake is a 4xx with OpenAI's envelope naming what is wrong; the server keeps serving. */
class SpeechErrorsTest {
    static Http http;

    @BeforeAll
    static void start() {
        http = new Http(TestServers.shared());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
            "malformed JSON|{\"model\":\"tts-1\",|400|invalid_json|",
            "not an object|[\"tts-1\"]|400|invalid_type|",
            "empty body|''|400|invalid_json|",
            "wrong type|{\"model\":\"tts-1\",\"input\":5,\"voice\":\"alloy\"}|400|invalid_type|input",
            "empty input|{\"model\":\"tts-1\",\"input\":\" \",\"voice\":\"alloy\"}|400|string_too_short|input",
            "empty voice|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"\"}|400|invalid_value|voice",
            "unknown voice|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"nobody\"}|400|voice_not_found|voice",
            "unknown voice id|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":{\"id\":\"alloy\"}}|400|voice_not_found|voice.id",
            "path as voice|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"/etc/passwd\"}|400|voice_not_found|voice",
            "unknown model|{\"model\":\"tts-2\",\"input\":\"x\",\"voice\":\"alloy\"}|400|model_not_found|model",
            "bad format|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\",\"response_format\":\"ogg\"}|400|invalid_value|response_format",
            "slow speed|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\",\"speed\":0.1}|400|decimal_below_min_value|speed",
            "bad stream format|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\",\"stream_format\":\"ws\"}|400|invalid_value|stream_format",
            "ignored knob of the wrong type|{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\",\"cfg_weight\":\"low\"}|400|invalid_type|cfg_weight",
            "too long a pause|{\"model\":\"tts-1\",\"input\":\"a [pause:11s] b\",\"voice\":\"alloy\"}|400|invalid_value|input",
            "malformed pause|{\"model\":\"tts-1\",\"input\":\"a [pause:soon] b\",\"voice\":\"alloy\"}|400|invalid_value|input",
    })
    void badRequestsAreNamed(String what, String body, int status, String code, String param) {
        JsonNode e = Http.error(http.speech(body), status);
        assertThat(e.get("type").asText()).isEqualTo("invalid_request_error");
        assertThat(e.get("code").asText()).isEqualTo(code);
        if (param == null) {
            assertThat(e.get("param").isNull()).isTrue();
        } else {
            assertThat(e.get("param").asText()).isEqualTo(param);
        }
    }

    @Test
    void theHomeLabDashboardsBareCallSpeaksWithTheDefaultModelAndVoice() {
        // the design's dashboard and curl examples send only the text (lenient mode, the default)
        HttpResponse<byte[]> r = http.speech("{\"input\": \"Hello world\", \"response_format\": \"wav\"}");
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("audio/wav");
        assertThat(new String(r.body(), 0, 4, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("RIFF");
    }

    @Test
    void hostileJsonIsA400NotACrash() {
        String deep = "{\"model\":" + "[".repeat(100_000) + "]".repeat(100_000) + "}";
        assertThat(Http.error(http.speech(deep), 400).get("code").asText()).isEqualTo("invalid_json");
        JsonNode big = Http.error(http.speech("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\","
                + "\"speed\":1e400}"), 400);
        assertThat(big.get("param").asText()).isEqualTo("speed");
        JsonNode seed = Http.error(http.speech("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\","
                + "\"seed\":123456789012345678901234567890}"), 400);
        assertThat(seed.get("param").asText()).isEqualTo("seed");
        byte[] badUtf8 = {'{', '"', 'm', '"', ':', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
        Http.error(http.send(http.request("/v1/audio/speech").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofByteArray(badUtf8)).build()), 400);
        assertThat(http.get("/health/ready").statusCode()).isEqualTo(200);
    }

    @Test
    void clientFaultsTellTheSdkNotToRetry() {
        HttpResponse<byte[]> r = http.speech("{\"model\":\"tts-1\",\"input\":\"\",\"voice\":\"alloy\"}");
        assertThat(r.headers().firstValue("x-should-retry")).hasValue("false");
    }

    @Test
    void inputOver4096CharactersIsRejectedAndExactly4096Accepted() {
        JsonNode e = Http.error(http.speech("{\"model\":\"tts-1\",\"input\":\"" + "a".repeat(4097)
                + "\",\"voice\":\"alloy\"}"), 400);
        assertThat(e.get("param").asText()).isEqualTo("input");
        assertThat(e.get("code").asText()).isEqualTo("string_above_max_length");
        String ok = ("Word. ").repeat(682) + "abcd"; // 4096 characters
        assertThat(ok).hasSize(4096);
        HttpResponse<byte[]> r = http.speech("{\"model\":\"tts-1\",\"input\":\"" + ok + "\",\"voice\":\"alloy\","
                + "\"response_format\":\"pcm\",\"max_tokens\":2}");
        assertThat(r.statusCode()).as(new String(r.body())).isEqualTo(200);
    }

    @Test
    void oversizeBodyIs413() {
        String huge = "{\"model\":\"tts-1\",\"input\":\"" + "a".repeat(2 << 20) + "\",\"voice\":\"alloy\"}";
        JsonNode e = Http.error(http.speech(huge), 413);
        assertThat(e.get("code").asText()).isEqualTo("request_too_large");
        // and the server still answers
        assertThat(http.get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void wrongContentTypeIs415() {
        HttpResponse<byte[]> r = http.send(http.request("/v1/audio/speech").header("Content-Type", "application/xml")
                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tts-1\",\"input\":\"x\",\"voice\":\"alloy\"}"))
                .build());
        assertThat(Http.error(r, 415).get("message").asText()).contains("application/json");
    }

    @Test
    void simpleRequestContentTypesAre415() {
        // a foreign page can send these without a CORS preflight; curl -d sends the form type (add -H)
        for (String ct : new String[] {"application/x-www-form-urlencoded", "text/plain", "multipart/form-data; b=x"}) {
            HttpResponse<byte[]> r = http.send(http.request("/v1/audio/speech").header("Content-Type", ct)
                    .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"tts-1\",\"input\":\"Curl.\","
                            + "\"voice\":\"alloy\",\"response_format\":\"pcm\"}")).build());
            assertThat(Http.error(r, 415).get("code").asText()).as(ct).isEqualTo("unsupported_media_type");
        }
    }

    @Test
    void unknownPathsAre404AndWrongMethods405() {
        JsonNode nf = Http.error(http.get("/v1/audio/transcriptions"), 404);
        assertThat(nf.get("message").asText()).contains("/v1/audio/transcriptions");
        Http.error(http.get("/v1/audio/speech"), 405);
        Http.error(http.send(http.request("/v1/models").DELETE().build()), 405);
        Http.error(http.get("/v1/models/tts-3"), 404);
    }

    @Test
    void requestIdsAreEchoedWhenSaneAndMintedOtherwise() {
        HttpResponse<byte[]> r = http.send(http.request("/v1/models").header("x-request-id", "abc-123").GET().build());
        assertThat(r.headers().firstValue("x-request-id")).hasValue("abc-123");
        HttpResponse<byte[]> bad = http.send(http.request("/v1/models").header("x-request-id", "<script>").GET()
                .build());
        assertThat(bad.headers().firstValue("x-request-id")).hasValueSatisfying(v -> assertThat(v).startsWith("req_"));
    }
}
