package dev.localai.tts.core.text;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerComponentTest {
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases(Path f) throws IOException {
        return (List<Map<String, Object>>) ((Map<String, Object>) MiniJson.parse(Files.readString(f))).get("cases");
    }

    @Test
    void reproducesTheGoldenPuncNormAndIds(@TempDir Path tmp) throws IOException {
        Path out = tmp.resolve("out.json");
        TokenizerComponent.run(Golden.ckpt(), Golden.dir().resolve("tokenizer.json"), out);
        List<Map<String, Object>> want = cases(Golden.dir().resolve("tokenizer.json"));
        List<Map<String, Object>> got = cases(out);
        assertThat(got).hasSize(want.size());
        for (int i = 0; i < want.size(); i++) {
            assertThat(got.get(i).get("text")).isEqualTo(want.get(i).get("text"));
            assertThat(got.get(i).get("punc_norm")).isEqualTo(want.get(i).get("punc_norm"));
            assertThat(got.get(i).get("ids").toString()).as("ids of case %d", i)
                    .isEqualTo(want.get(i).get("ids").toString());
        }
    }

    @Test
    void quotesControlCharacters() {
        assertThat(TokenizerComponent.quote("a\"b\\c\n\u0001")).isEqualTo("\"a\\\"b\\\\c\\n\\u0001\"");
    }
}
