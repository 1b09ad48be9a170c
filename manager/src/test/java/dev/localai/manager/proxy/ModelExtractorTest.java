package dev.localai.manager.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Finding and rewriting {@code model} in JSON, multipart and query forms. */
class ModelExtractorTest {
    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void jsonBodies() {
        assertThat(ModelExtractor.extract("application/json", b("{\"model\":\"tts-1\",\"input\":\"x\"}"), null)).isEqualTo("tts-1");
        assertThat(ModelExtractor.extract("", b("  {\"model\":\"a\"}"), null)).as("no content type").isEqualTo("a");
        assertThat(ModelExtractor.extract("application/json", b("{\"model\": 5}"), "q")).as("not a string").isEqualTo("q");
        assertThat(ModelExtractor.extract("application/json", b("{broken"), "q")).isEqualTo("q");
        assertThat(ModelExtractor.extract("application/json", b(""), null)).isNull();
        assertThat(ModelExtractor.extract("application/json", b("[1]"), null)).isNull();
    }

    @Test
    void multipartBodiesFindTheFieldWhereverItIsAndIgnoreFileParts() {
        String body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"model\"\r\n\r\nmodel=bogus\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"language\"\r\n\r\nen\r\n"
                + "--XyZ\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1 \r\n--XyZ--\r\n";
        assertThat(ModelExtractor.extract("multipart/form-data; boundary=\"XyZ\"", b(body), null)).isEqualTo("whisper-1");
        assertThat(ModelExtractor.extract("multipart/form-data; boundary=Other", b(body), "fallback")).isEqualTo("fallback");
        assertThat(ModelExtractor.extract("multipart/form-data", b(body), null)).as("no boundary").isNull();
        assertThat(ModelExtractor.extract("multipart/form-data; boundary=XyZ", b("--XyZ\r\ntruncated"), null)).isNull();
    }

    @Test
    void upstreamModelRewriteTouchesOnlyJson() {
        assertThat(new String(ModelExtractor.rewriteModel("application/json", b("{\"model\":\"a\",\"n\":1}"), "Org/Big"),
                StandardCharsets.UTF_8)).isEqualTo("{\"model\":\"Org/Big\",\"n\":1}");
        byte[] multipart = b("--x\r\n...");
        assertThat(ModelExtractor.rewriteModel("multipart/form-data; boundary=x", multipart, "Org/Big")).isSameAs(multipart);
        byte[] json = b("{\"model\":\"a\"}");
        assertThat(ModelExtractor.rewriteModel("application/json", json, null)).isSameAs(json);
    }
}
