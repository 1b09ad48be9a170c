package dev.localai.tts.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SpeechRequestParserTest {
    private final SpeechRequestParser lenient = SpeechRequestParser.lenient();

    private SpeechCreateRequest parse(String json) {
        return lenient.parse(json.getBytes(StandardCharsets.UTF_8));
    }

    private ApiException fail(SpeechRequestParser p, String json) {
        ApiException e = catchThrowableOfType(ApiException.class, () -> p.parse(json.getBytes(StandardCharsets.UTF_8)));
        assertThat(e).as("expected a rejection of %s", json).isNotNull();
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.error().type()).isEqualTo(ApiError.INVALID_REQUEST);
        return e;
    }

    private ApiException fail(String json) {
        return fail(lenient, json);
    }

    @Test
    void theDashboardsBareInputGetsTheDefaultModelAndVoiceOnlyWhenLenient() {
        SpeechCreateRequest r = parse("{\"input\": \"Hello world\"}");
        assertThat(r.model()).isEqualTo(SpeechRequestParser.DEFAULT_MODEL);
        assertThat(r.voice()).isEqualTo(VoiceRef.name(SpeechRequestParser.DEFAULT_VOICE));
        assertThat(parse("{\"input\":\"x\",\"model\":null,\"voice\":null}").model()).isEqualTo("chatterbox-turbo");
        SpeechRequestParser strict = SpeechRequestParser.strict();
        assertThat(fail(strict, "{\"input\":\"x\",\"voice\":\"v\"}").error().param()).isEqualTo("model");
        assertThat(fail(strict, "{\"model\":\"m\",\"input\":\"x\"}").error().code())
                .isEqualTo("missing_required_parameter");
        assertThat(fail(strict, "{\"model\":\"m\",\"input\":\"x\"}").error().param()).isEqualTo("voice");
        // present but wrong is wrong in both modes
        assertThat(fail("{\"model\":\"\",\"input\":\"x\"}").error().param()).isEqualTo("model");
        assertThat(fail("{\"voice\":7,\"input\":\"x\"}").error().param()).isEqualTo("voice");
    }

    @Test
    void minimalRequestGetsOpenAiDefaults() {
        SpeechCreateRequest r = parse("{\"model\":\"tts-1\",\"input\":\"Hello\",\"voice\":\"alloy\"}");
        assertThat(r.model()).isEqualTo("tts-1");
        assertThat(r.input()).isEqualTo("Hello");
        assertThat(r.voice()).isEqualTo(VoiceRef.name("alloy"));
        assertThat(r.responseFormatOrDefault()).isEqualTo(ResponseFormat.MP3);
        assertThat(r.speedOrDefault()).isEqualTo(1.0);
        assertThat(r.streamFormatOrDefault()).isEqualTo(StreamFormat.AUDIO);
        assertThat(r.instructions()).isNull();
    }

    @Test
    void everyOpenAiFieldAndExtensionIsRead() {
        SpeechCreateRequest r = parse("""
                {"model":"gpt-4o-mini-tts","input":"Hi there","voice":{"id":"voice_123"},"instructions":"calm",
                 "response_format":"flac","speed":0.25,"stream_format":"sse","stream":false,"seed":7,
                 "temperature":0.5,"top_k":50,"top_p":0.9,"repetition_penalty":1.3,"max_tokens":100}""");
        assertThat(r.voice()).isEqualTo(VoiceRef.id("voice_123"));
        assertThat(r.instructions()).isEqualTo("calm");
        assertThat(r.responseFormat()).isEqualTo(ResponseFormat.FLAC);
        assertThat(r.speed()).isEqualTo(0.25);
        assertThat(r.streamFormat()).isEqualTo(StreamFormat.SSE);
        assertThat(r.stream()).isFalse();
        assertThat(r.seed()).isEqualTo(7L);
        assertThat(r.temperature()).isEqualTo(0.5);
        assertThat(r.topK()).isEqualTo(50);
        assertThat(r.topP()).isEqualTo(0.9);
        assertThat(r.repetitionPenalty()).isEqualTo(1.3);
        assertThat(r.maxTokens()).isEqualTo(100);
    }

    @Test
    void allSixFormatsParse() {
        for (ResponseFormat f : ResponseFormat.values()) {
            SpeechCreateRequest r = parse("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"response_format\":\""
                    + f.wire() + "\"}");
            assertThat(r.responseFormat()).isEqualTo(f);
        }
    }

    @Test
    void inputOfExactly4096CharactersIsAcceptedAnd4097Rejected() {
        String ok = "a".repeat(4096);
        assertThat(parse("{\"model\":\"m\",\"input\":\"" + ok + "\",\"voice\":\"v\"}").input()).hasSize(4096);
        ApiException e = fail("{\"model\":\"m\",\"input\":\"" + ok + "b\",\"voice\":\"v\"}");
        assertThat(e.error().param()).isEqualTo("input");
        assertThat(e.error().code()).isEqualTo("string_above_max_length");
        assertThat(e.error().message()).contains("4096").contains("4097");
    }

    @Test
    void inputLengthCountsCharactersNotUtf16Units() {
        String emoji = "\uD83D\uDE00".repeat(4096); // 4096 code points, 8192 chars
        assertThat(parse("{\"model\":\"m\",\"input\":\"" + emoji + "\",\"voice\":\"v\"}").input()).isEqualTo(emoji);
    }

    @Test
    void instructionsAreLimitedToo() {
        ApiException e = fail("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"instructions\":\""
                + "i".repeat(4097) + "\"}");
        assertThat(e.error().param()).isEqualTo("instructions");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"model\":\"m\",\"voice\":\"v\"}|input|missing_required_parameter",
            "{\"model\":\"m\",\"input\":\"   \",\"voice\":\"v\"}|input|string_too_short",
            "{\"model\":\"m\",\"input\":\"\",\"voice\":\"v\"}|input|string_too_short",
            "{\"model\":\"\",\"input\":\"x\",\"voice\":\"v\"}|model|invalid_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"\"}|voice|invalid_value",
            "{\"model\":\"m\",\"input\":42,\"voice\":\"v\"}|input|invalid_type",
            "{\"model\":7,\"input\":\"x\",\"voice\":\"v\"}|model|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":[\"v\"]}|voice|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":{}}|voice.id|missing_required_parameter",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":{\"id\":5}}|voice.id|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":{\"id\":\"a\",\"x\":1}}|voice.x|unknown_parameter",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"response_format\":\"ogg\"}|response_format|invalid_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"response_format\":1}|response_format|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"speed\":0.2}|speed|decimal_below_min_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"speed\":4.01}|speed|decimal_above_max_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"speed\":\"fast\"}|speed|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"stream_format\":\"ws\"}|stream_format|invalid_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"stream\":\"yes\"}|stream|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"seed\":1.5}|seed|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"temperature\":0}|temperature|invalid_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"top_k\":0}|top_k|integer_below_min_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"top_p\":1.5}|top_p|invalid_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"repetition_penalty\":0.5}|repetition_penalty|invalid_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"max_tokens\":5000}|max_tokens|integer_above_max_value",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"cfg_weight\":\"high\"}|cfg_weight|invalid_type",
            "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"exaggeration\":true}|exaggeration|invalid_type",
    })
    void badFieldsAreNamedPrecisely(String json, String param, String code) {
        ApiException e = fail(json);
        assertThat(e.error().param()).isEqualTo(param);
        assertThat(e.error().code()).isEqualTo(code);
        assertThat(e.error().message()).contains(param.contains(".") ? param.substring(param.indexOf('.') + 1) : param);
    }

    @Test
    void theOtherChatterboxServersKnobsAreAcceptedIgnoredAndReported() {
        String json = "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"exaggeration\":0.7,\"cfg_weight\":0.3}";
        for (SpeechRequestParser p : List.of(SpeechRequestParser.lenient(), SpeechRequestParser.strict())) {
            SpeechCreateRequest r = p.parse(json.getBytes(StandardCharsets.UTF_8));
            assertThat(r.ignoredParameters()).containsExactly("exaggeration", "cfg_weight");
            assertThat(r.ignoredParametersWarning()).isEqualTo("exaggeration and cfg_weight are ignored by Chatterbox Turbo");
        }
        SpeechCreateRequest three = parse("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"exaggeration\":1,"
                + "\"cfg_weight\":0,\"min_p\":0.05}");
        assertThat(three.ignoredParametersWarning())
                .isEqualTo("exaggeration, cfg_weight and min_p are ignored by Chatterbox Turbo");
        assertThat(parse("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"min_p\":0.1}").ignoredParametersWarning())
                .isEqualTo("min_p is ignored by Chatterbox Turbo");
        SpeechCreateRequest none = parse("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\"}");
        assertThat(none.ignoredParameters()).isEmpty();
        assertThat(none.ignoredParametersWarning()).isNull();
    }

    @Test
    void typeErrorsSayWhatWasExpectedAndWhatCame() {
        ApiException e = fail("{\"model\":\"m\",\"input\":true,\"voice\":\"v\"}");
        assertThat(e.error().message()).isEqualTo("Invalid type for 'input': expected a string, but got a boolean.");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''|invalid_json",
            "{|invalid_json",
            "not json|invalid_json",
            "{\"model\":\"m\"} trailing|invalid_json",
            "{\"model\":\"m\",\"model\":\"n\",\"input\":\"x\",\"voice\":\"v\"}|invalid_json",
            "[1,2]|invalid_type",
            "\"text\"|invalid_type",
            "null|invalid_type",
    })
    void malformedBodiesAreInvalidJson(String body, String code) {
        ApiException e = fail(body);
        assertThat(e.error().code()).isEqualTo(code);
        assertThat(e.error().param()).isNull();
        assertThat(e.error().message()).isNotBlank();
    }

    @Test
    void unknownFieldsAreIgnoredWhenLenientAndRejectedWhenStrict() {
        String json = "{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"lang\":\"en\"}";
        assertThat(parse(json).input()).isEqualTo("x");
        ApiException e = fail(SpeechRequestParser.strict(), json);
        assertThat(e.error().param()).isEqualTo("lang");
        assertThat(e.error().code()).isEqualTo("unknown_parameter");
    }

    @Test
    void nullOptionalFieldsMeanDefaults() {
        SpeechCreateRequest r = parse("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"speed\":null,"
                + "\"response_format\":null,\"instructions\":null}");
        assertThat(r.speedOrDefault()).isEqualTo(1.0);
        assertThat(r.responseFormatOrDefault()).isEqualTo(ResponseFormat.MP3);
    }

    @Test
    void integralDecimalsAreAcceptedAsIntegers() {
        assertThat(parse("{\"model\":\"m\",\"input\":\"x\",\"voice\":\"v\",\"seed\":3.0}").seed()).isEqualTo(3L);
    }
}
