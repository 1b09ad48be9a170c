package dev.localai.tts.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The probes of issue 15 against the speech parser: huge integers, range codes, malformed UTF-8. */
class SpeechRequestEdgesTest {
    private final SpeechRequestParser parser = SpeechRequestParser.lenient();

    private ApiException fail(byte[] body) {
        ApiException e = catchThrowableOfType(ApiException.class, () -> parser.parse(body));
        assertThat(e).as("expected a rejection of %s", new String(body, StandardCharsets.ISO_8859_1)).isNotNull();
        assertThat(e.status()).isEqualTo(400);
        assertThat(e.error().type()).isEqualTo(ApiError.INVALID_REQUEST);
        return e;
    }

    private ApiException fail(String json) {
        return fail(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aSeedOf2To70IsOutOfRangeNotATypeError() {
        ApiException e = fail("{\"input\":\"x\",\"seed\":1180591620717411303424}");
        assertThat(e.error().param()).isEqualTo("seed");
        assertThat(e.error().code()).isEqualTo("integer_above_max_value");
        assertThat(e.error().message()).contains("1180591620717411303424").contains("out of range")
                .contains("2^63-1").doesNotContain("but got an integer");
        ApiException neg = fail("{\"input\":\"x\",\"seed\":-1180591620717411303424}");
        assertThat(neg.error().code()).isEqualTo("integer_below_min_value");
        assertThat(fail("{\"input\":\"x\",\"seed\":1e300}").error().code()).isEqualTo("integer_above_max_value");
    }

    @Test
    void theLargestSeedIsAccepted() {
        assertThat(parser.parse("{\"input\":\"x\",\"seed\":9223372036854775807}".getBytes(StandardCharsets.UTF_8))
                .seed()).isEqualTo(Long.MAX_VALUE);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1099511627776", "2147483648", "1180591620717411303424"})
    void aHugeTopKIsAboveTheMaximum(String k) {
        ApiException e = fail("{\"input\":\"x\",\"top_k\":" + k + "}");
        assertThat(e.error().param()).isEqualTo("top_k");
        assertThat(e.error().code()).isEqualTo("integer_above_max_value");
    }

    @Test
    void aTopKBelowOneIsBelowTheMinimum() {
        assertThat(fail("{\"input\":\"x\",\"top_k\":-5}").error().code()).isEqualTo("integer_below_min_value");
    }

    @Test
    void aDecimalIsStillATypeError() {
        ApiException e = fail("{\"input\":\"x\",\"seed\":1.5}");
        assertThat(e.error().code()).isEqualTo("invalid_type");
        assertThat(e.error().message()).contains("but got a decimal");
    }

    private static byte[] withRawBytes(String before, byte[] raw, String after) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(before.getBytes(StandardCharsets.UTF_8));
        out.writeBytes(raw);
        out.writeBytes(after.getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    @Test
    void overlongUtf8IsRejected() {
        // C0 80: an overlong encoding of NUL
        ApiException e = fail(withRawBytes("{\"input\":\"a", new byte[] {(byte) 0xC0, (byte) 0x80}, "b\"}"));
        assertThat(e.error().code()).isEqualTo("invalid_json");
        assertThat(e.error().message()).contains("UTF-8");
        // E0 80 AF: an overlong '/'; ED A0 80: an encoded surrogate; FF: never valid; a truncated sequence
        for (byte[] raw : new byte[][] {{(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, {(byte) 0xED, (byte) 0xA0,
                (byte) 0x80}, {(byte) 0xFF}, {(byte) 0xE2, (byte) 0x82}}) {
            assertThat(fail(withRawBytes("{\"input\":\"a", raw, "b\"}")).error().code()).isEqualTo("invalid_json");
        }
    }

    @Test
    void wellFormedMultiByteUtf8IsAccepted() {
        assertThat(parser.parse("{\"input\":\"Grüße, 世界 🎉\"}".getBytes(StandardCharsets.UTF_8)).input())
                .isEqualTo("Grüße, 世界 🎉");
    }
}
