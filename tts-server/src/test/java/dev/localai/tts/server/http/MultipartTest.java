package dev.localai.tts.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.localai.tts.api.ApiException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MultipartTest {
    private static final String CT = "multipart/form-data; boundary=XyZ";

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    @Test
    void parsesFieldsAndFilesWithBinaryData() {
        String body = "--XyZ\r\nContent-Disposition: form-data; name=\"name\"\r\n\r\nmy-voice\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"audio_sample\"; filename=\"a.wav\"\r\n"
                + "Content-Type: audio/wav\r\n\r\nRIFF\u0000\u00ff\r\n--Xy\r\n--XyZ--\r\n";
        Multipart m = Multipart.parse(CT, bytes(body));
        assertThat(m.part("name").orElseThrow().text()).isEqualTo("my-voice");
        Multipart.Part f = m.anyPart("audio_sample", "file").orElseThrow();
        assertThat(f.fileName()).isEqualTo("a.wav");
        assertThat(f.contentType()).isEqualTo("audio/wav");
        assertThat(f.data()).containsExactly(bytes("RIFF\u0000\u00ff\r\n--Xy"));
    }

    private static ApiException fails(String ct, String body) {
        ApiException e = catchThrowableOfType(ApiException.class, () -> Multipart.parse(ct, bytes(body)));
        assertThat(e).isNotNull();
        return e;
    }

    @Test
    void defectsAreNamed() {
        assertThat(fails("application/json", "{}").status()).isEqualTo(415);
        assertThat(fails("multipart/form-data", "x").error().message()).contains("boundary");
        assertThat(fails(CT, "no boundary here").error().message()).contains("does not contain its boundary");
        assertThat(fails(CT, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nunterminated")
                .error().message()).contains("closing boundary");
        assertThat(fails(CT, "--XyZ\r\nContent-Type: text/plain\r\n\r\nx\r\n--XyZ--").error().message())
                .contains("Content-Disposition");
        assertThat(fails(CT, "--XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n--XyZ--").error().message())
                .contains("field name");
        assertThat(fails(CT, "--XyZ\r\nContent-Disposition: form-data; name=a").error().message())
                .contains("end of headers");
    }

    @Test
    void anEmptyFormHasNoParts() {
        assertThat(Multipart.parse(CT, bytes("--XyZ--\r\n")).parts()).isEmpty();
    }
}
