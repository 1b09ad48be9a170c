package dev.localai.tts.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TokenizerGoldenTest {
    private static Path golden;
    private static Gpt2Tokenizer tok;

    @BeforeAll
    static void load() {
        golden = Golden.dir();
        tok = Gpt2Tokenizer.load(golden.resolve("ckpt"));
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases(String json) {
        return (List<Map<String, Object>>) ((Map<String, Object>) readJson(json)).get("cases");
    }

    private static Object readJson(String json) {
        try {
            return new ObjectMapper().readValue(json, Map.class);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int[] ints(Object list) {
        return ((List<?>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    @Test
    void sizeAndTags() {
        assertThat(tok.size()).isEqualTo(50276);
        assertThat(tok.modelMaxLength()).isEqualTo(1024);
        assertThat(tok.tokenId("[laugh]")).hasValue(50275);
        assertThat(tok.tokenId("[clear throat]")).hasValue(50267);
        assertThat(tok.tokenId("<|endoftext|>")).hasValue(50256);
    }

    @Test
    void upstreamGoldenPuncNormAndIds() throws IOException {
        List<Map<String, Object>> cases = cases(Files.readString(golden.resolve("tokenizer.json")));
        assertThat(cases).hasSize(11);
        for (Map<String, Object> c : cases) {
            String text = (String) c.get("text");
            String norm = PuncNorm.normalize(text);
            assertThat(norm).as("punc_norm of %s", text).isEqualTo(c.get("punc_norm"));
            assertThat(tok.encode(norm)).as("ids of %s", norm).containsExactly(ints(c.get("ids")));
            assertThat(new TextFrontEnd(tok).textTokens(text)).containsExactly(ints(c.get("ids")));
        }
    }

    @Test
    void ownCorpusIdsAndPuncNorm() throws IOException {
        String json;
        try (InputStream in = getClass().getResourceAsStream("gpt2_golden.json")) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        List<Map<String, Object>> cases = cases(json);
        assertThat(cases).hasSizeGreaterThan(20);
        for (Map<String, Object> c : cases) {
            String text = (String) c.get("text");
            assertThat(tok.encode(text)).as("ids of [%s]", text).containsExactly(ints(c.get("ids")));
            String norm = PuncNorm.normalize(text);
            assertThat(norm).as("punc_norm of [%s]", text).isEqualTo(c.get("punc_norm"));
            assertThat(tok.encode(norm)).as("ids of [%s]", norm).containsExactly(ints(c.get("punc_norm_ids")));
        }
    }

    @Test
    void decodeRoundTrips() {
        for (String s : List.of("Hello [laugh] world 日本語 🙂 <|endoftext|>", "  tabs\t\nand [clear throat]x", "")) {
            assertThat(tok.decode(tok.encode(s))).isEqualTo(s);
        }
    }

    @Test
    void truncatesToModelMaxLength() {
        String longText = "word ".repeat(3000);
        assertThat(tok.encode(longText).length).isGreaterThan(1024);
        assertThat(tok.encodeTruncated(longText)).hasSize(1024);
    }
}
