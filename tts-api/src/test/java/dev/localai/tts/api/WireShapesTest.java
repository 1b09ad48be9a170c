package dev.localai.tts.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import org.junit.jupiter.api.Test;

class WireShapesTest {

    private static JsonNode tree(Object o) throws Exception {
        return Json.MAPPER.readTree(Json.write(o));
    }

    @Test
    void errorEnvelopeAlwaysHasAllFourKeys() throws Exception {
        JsonNode n = tree(ErrorResponse.of("bad", ApiError.INVALID_REQUEST, null, null));
        assertThat(n.fieldNames()).toIterable().containsExactly("error");
        JsonNode e = n.get("error");
        assertThat(e.fieldNames()).toIterable().containsExactlyInAnyOrder("message", "type", "param", "code");
        assertThat(e.get("param").isNull()).isTrue();
        assertThat(e.get("code").isNull()).isTrue();
        assertThat(e.get("message").asText()).isEqualTo("bad");
    }

    @Test
    void apiErrorFactoriesCarryStatusAndRetryAfter() {
        assertThat(ApiErrors.busy("full", 0).status()).isEqualTo(429);
        assertThat(ApiErrors.busy("full", 0).headers()).containsEntry("Retry-After", "1");
        assertThat(ApiErrors.busy("full", 0).error().type()).isEqualTo(ApiError.RATE_LIMIT);
        assertThat(ApiErrors.unavailable("model_loading", "wait", 5).status()).isEqualTo(503);
        assertThat(ApiErrors.unavailable("model_loading", "wait", 5).headers()).containsEntry("Retry-After", "5");
        assertThat(ApiErrors.tooLarge(10).status()).isEqualTo(413);
        assertThat(ApiErrors.unauthorized("no").status()).isEqualTo(401);
        assertThat(ApiErrors.notFound("voice", "voice_not_found", "x").body().error().param()).isEqualTo("voice");
    }

    @Test
    void modelListHasOpenAiShape() throws Exception {
        JsonNode n = tree(ModelList.of(List.of(ModelObject.of("chatterbox-turbo", 1765756800L, "resemble-ai"))));
        assertThat(n.get("object").asText()).isEqualTo("list");
        JsonNode m = n.get("data").get(0);
        assertThat(m.get("id").asText()).isEqualTo("chatterbox-turbo");
        assertThat(m.get("object").asText()).isEqualTo("model");
        assertThat(m.get("created").asLong()).isEqualTo(1765756800L);
        assertThat(m.get("owned_by").asText()).isEqualTo("resemble-ai");
        assertThat(m.has("shutdown_date")).isTrue();
    }

    @Test
    void voiceListAndAudioModelListHaveTheShapesOpenWebUiReads() throws Exception {
        JsonNode v = tree(VoiceList.of(List.of(VoiceObject.of("default", "Built-in", 0, true))));
        assertThat(v.get("voices").get(0).get("id").asText()).isEqualTo("default");
        assertThat(v.get("voices").get(0).get("name").asText()).isEqualTo("Built-in");
        assertThat(v.get("voices").get(0).get("object").asText()).isEqualTo("audio.voice");
        assertThat(v.get("voices").get(0).get("created_at").asLong()).isZero();
        JsonNode legacy = tree(new VoiceList.LegacyVoiceList(List.of("a", "b")));
        assertThat(legacy.get("voices").get(1).asText()).isEqualTo("b");
        JsonNode am = tree(AudioModelList.of(List.of("tts-1")));
        assertThat(am.get("models").get(0).get("id").asText()).isEqualTo("tts-1");
    }

    @Test
    void theVoiceMapRidesAlongTheVoiceListInItsOrderAndIsOmittedWhenEmpty() throws Exception {
        java.util.Map<String, String> map = new java.util.LinkedHashMap<>();
        map.put("echo", "vc1");
        map.put("alloy", "default");
        JsonNode v = tree(VoiceList.of(List.of(VoiceObject.of("default", "Built-in", 0, true)), map));
        assertThat(v.get("voice_map").fieldNames()).toIterable().containsExactly("echo", "alloy");
        assertThat(v.get("voice_map").get("echo").asText()).isEqualTo("vc1");
        assertThat(tree(VoiceList.of(List.of())).has("voice_map")).isFalse();
    }

    @Test
    void textTagsListTheTagsAndThePauseSyntax() throws Exception {
        JsonNode t = tree(TextTags.of(List.of(new TextTags.Tag("[laugh]", "sound")),
                new TextTags.PauseSyntax("[pause:0.5s]", List.of("[pause:0.5s]", "[pause:500ms]"), 10, 60)));
        assertThat(t.get("object").asText()).isEqualTo("list");
        assertThat(t.get("tags").get(0).get("tag").asText()).isEqualTo("[laugh]");
        assertThat(t.get("tags").get(0).get("kind").asText()).isEqualTo("sound");
        assertThat(t.get("pause").get("syntax").asText()).isEqualTo("[pause:0.5s]");
        assertThat(t.get("pause").get("max_seconds").asDouble()).isEqualTo(10.0);
        assertThat(t.get("pause").get("max_total_seconds").asDouble()).isEqualTo(60.0);
    }

    @Test
    void sseEventsHaveExactTypesAndUsage() throws Exception {
        byte[] audio = {1, 2, 3, (byte) 0xff};
        JsonNode d = tree(SpeechAudioDeltaEvent.of(audio));
        assertThat(d.get("type").asText()).isEqualTo("speech.audio.delta");
        assertThat(Json.MAPPER.treeToValue(d, SpeechAudioDeltaEvent.class).bytes()).containsExactly(audio);
        JsonNode done = tree(SpeechAudioDoneEvent.of(Usage.of(14, 101)));
        assertThat(done.get("type").asText()).isEqualTo("speech.audio.done");
        assertThat(done.get("usage").get("input_tokens").asLong()).isEqualTo(14);
        assertThat(done.get("usage").get("output_tokens").asLong()).isEqualTo(101);
        assertThat(done.get("usage").get("total_tokens").asLong()).isEqualTo(115);
    }

    @Test
    void speechRequestRoundTripsThroughJsonKeepingTheVoiceShape() throws Exception {
        SpeechCreateRequest byName = SpeechCreateRequest.of("tts-1", "Hello", "alloy");
        String json = Json.write(byName);
        assertThat(Json.MAPPER.readTree(json).get("voice").asText()).isEqualTo("alloy");
        assertThat(SpeechRequestParser.strict().parse(json.getBytes())).isEqualTo(byName);
        SpeechCreateRequest byId = new SpeechCreateRequest("tts-1", "Hello", VoiceRef.id("v1"), null,
                ResponseFormat.WAV, 1.5, StreamFormat.SSE, null, null, null, null, null, null, null);
        String j2 = Json.write(byId);
        assertThat(Json.MAPPER.readTree(j2).get("voice").get("id").asText()).isEqualTo("v1");
        assertThat(Json.MAPPER.readTree(j2).get("response_format").asText()).isEqualTo("wav");
        assertThat(SpeechRequestParser.strict().parse(j2.getBytes())).isEqualTo(byId);
        assertThat(Json.MAPPER.readValue(j2, SpeechCreateRequest.class)).isEqualTo(byId);
    }

    @Test
    void formatNamesAreTheWireNames() {
        assertThat(ResponseFormat.fromWire("mp3")).contains(ResponseFormat.MP3);
        assertThat(ResponseFormat.fromWire("PCM")).contains(ResponseFormat.PCM);
        assertThat(ResponseFormat.fromWire("Mp3")).isEmpty();
        assertThat(StreamFormat.fromWire("sse")).contains(StreamFormat.SSE);
    }
}
