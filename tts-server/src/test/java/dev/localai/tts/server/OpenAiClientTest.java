package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.HttpResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.UnauthorizedException;
import com.openai.models.audio.speech.SpeechCreateParams;
import com.openai.models.audio.speech.SpeechModel;
import com.openai.models.models.Model;
import dev.localai.tts.core.audio.encode.TestAudio;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compatibility with the official OpenAI Java SDK ({@code client.audio().speech().create(...)}), on a server that
 * requires an API key (so the SDK's {@code Authorization: Bearer} is exercised too).
 */
class OpenAiClientTest {
    static final String KEY = "sk-local-test-key";
    static TtsServer server;
    static OpenAIClient client;
    static Http http;

    @BeforeAll
    static void start() {
        server = TestServers.startReady(TestServers.config().apiKeys(List.of(KEY, "second-key"))
                .publicListings(false).allowedOrigins(List.of("http://x")).build());
        client = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1").apiKey(KEY)
                .maxRetries(0).build();
        http = new Http(server);
    }

    @AfterAll
    static void stop() {
        client.close();
        server.shutdown();
    }

    @Test
    void speechCreateReturnsDecodableAudioInEveryFormat() throws Exception {
        for (SpeechCreateParams.ResponseFormat f : List.of(SpeechCreateParams.ResponseFormat.MP3,
                SpeechCreateParams.ResponseFormat.WAV, SpeechCreateParams.ResponseFormat.OPUS,
                SpeechCreateParams.ResponseFormat.AAC, SpeechCreateParams.ResponseFormat.FLAC,
                SpeechCreateParams.ResponseFormat.PCM)) {
            SpeechCreateParams params = SpeechCreateParams.builder().model(SpeechModel.TTS_1)
                    .input("Hello from the official SDK.").voice(SpeechCreateParams.Voice.UnionMember1.ALLOY)
                    .responseFormat(f).speed(1.25).build();
            try (HttpResponse r = client.audio().speech().create(params)) {
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.requestId()).hasValueSatisfying(id -> assertThat(id).startsWith("req_"));
                byte[] bytes = r.body().readAllBytes();
                TestAudio.Decoded d = TestAudio.decode(bytes, f == SpeechCreateParams.ResponseFormat.PCM);
                assertThat(d.seconds()).as(f.toString()).isPositive();
            }
        }
    }

    @Test
    void voiceObjectsModelStringsInstructionsAndExtensionFieldsPassThrough() throws Exception {
        SpeechCreateParams params = SpeechCreateParams.builder().model("gpt-4o-mini-tts")
                .input("Custom voice by id.").voice(SpeechCreateParams.Voice.Id.builder().id("default").build())
                .instructions("Speak calmly.").responseFormat(SpeechCreateParams.ResponseFormat.WAV)
                .putAdditionalBodyProperty("seed", JsonValue.from(7))
                .putAdditionalBodyProperty("stream", JsonValue.from(false)).build();
        try (HttpResponse r = client.audio().speech().create(params)) {
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().values("X-Audio-Duration")).hasSize(1);
            assertThat(TestAudio.decode(r.body().readAllBytes(), false).seconds()).isPositive();
        }
    }

    @Test
    void sseThroughTheSdkIsTheRawEventStream() throws Exception {
        SpeechCreateParams params = SpeechCreateParams.builder().model(SpeechModel.GPT_4O_MINI_TTS)
                .input("Streaming events.").voice("alloy").responseFormat(SpeechCreateParams.ResponseFormat.PCM)
                .streamFormat(SpeechCreateParams.StreamFormat.SSE).build();
        try (HttpResponse r = client.audio().speech().create(params)) {
            var events = SseTest.events(r.body().readAllBytes());
            assertThat(events.get(0).get("type").asText()).isEqualTo("speech.audio.delta");
            assertThat(events.get(events.size() - 1).get("type").asText()).isEqualTo("speech.audio.done");
        }
    }

    @Test
    void errorsBecomeTypedSdkExceptionsWithParamAndCode() {
        BadRequestException empty = catchThrowableOfType(BadRequestException.class, () -> client.audio().speech()
                .create(SpeechCreateParams.builder().model(SpeechModel.TTS_1).input("")
                        .voice(SpeechCreateParams.Voice.UnionMember1.ALLOY).build()).close());
        assertThat(empty).isNotNull();
        assertThat(empty.statusCode()).isEqualTo(400);
        assertThat(empty.param()).hasValue("input");
        assertThat(empty.code()).hasValue("string_too_short");
        assertThat(empty.type()).hasValue("invalid_request_error");
        BadRequestException voice = catchThrowableOfType(BadRequestException.class, () -> client.audio().speech()
                .create(SpeechCreateParams.builder().model(SpeechModel.TTS_1).input("Hi").voice("nobody").build())
                .close());
        assertThat(voice.param()).hasValue("voice");
        assertThat(voice.getMessage()).contains("nobody");
    }

    @Test
    void modelsListThroughTheSdk() {
        List<String> ids = client.models().list().data().stream().map(Model::id).toList();
        assertThat(ids).contains("chatterbox-turbo", "tts-1", "tts-1-hd", "gpt-4o-mini-tts");
        assertThat(client.models().retrieve("tts-1-hd").id()).isEqualTo("tts-1-hd");
    }

    @Test
    void aWrongKeyIsAnAuthenticationError() {
        OpenAIClient wrong = OpenAIOkHttpClient.builder().baseUrl("http://127.0.0.1:" + server.port() + "/v1")
                .apiKey("sk-wrong").maxRetries(0).build();
        try {
            UnauthorizedException e = catchThrowableOfType(UnauthorizedException.class,
                    () -> wrong.models().list());
            assertThat(e).isNotNull();
            assertThat(e.type()).hasValue("authentication_error");
        } finally {
            wrong.close();
        }
    }

    @Test
    void keysAreAcceptedAsBearerOrXApiKeyAndOpsEndpointsStayOpen() {
        String speech = "{\"model\":\"tts-1\",\"input\":\"Key check.\",\"voice\":\"alloy\",\"response_format\":\"pcm\"}";
        java.net.http.HttpResponse<byte[]> none = http.speech(speech);
        Http.error(none, 401);
        assertThat(none.headers().firstValue("www-authenticate")).hasValue("Bearer");
        Http.error(http.send(http.request("/v1/audio/speech").header("Content-Type", "application/json")
                .header("Authorization", "Bearer nope").POST(HttpRequest.BodyPublishers.ofString(speech)).build()),
                401);
        assertThat(http.send(http.request("/v1/audio/speech").header("Content-Type", "application/json")
                .header("x-api-key", "second-key").POST(HttpRequest.BodyPublishers.ofString(speech)).build())
                .statusCode()).isEqualTo(200);
        assertThat(http.send(http.request("/v1/audio/speech").header("Content-Type", "application/json")
                .header("Authorization", "bearer " + KEY).POST(HttpRequest.BodyPublishers.ofString(speech)).build())
                .statusCode()).isEqualTo(200);
        // listings need the key here (public-listings: false); health, metrics and the page never do
        Http.error(http.get("/v1/audio/voices"), 401);
        assertThat(http.get("/health/ready").statusCode()).isEqualTo(200);
        assertThat(http.get("/metrics").statusCode()).isEqualTo(200);
        assertThat(new String(http.get("/").body(), StandardCharsets.UTF_8)).containsIgnoringCase("<html");
        // a CORS preflight carries no credentials and is answered before the key check
        assertThat(http.send(http.request("/v1/audio/speech").header("Origin", "http://x")
                .header("Access-Control-Request-Method", "POST")
                .method("OPTIONS", HttpRequest.BodyPublishers.noBody()).build()).statusCode()).isEqualTo(204);
    }
}
