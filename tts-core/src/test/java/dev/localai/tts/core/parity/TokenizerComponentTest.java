package dev.localai.tts.core.parity;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenizerComponentTest {
    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> cases(Path f) throws IOException {
        return (List<Map<String, Object>>) (new ObjectMapper().readValue(f.toFile(), Map.class)).get("cases");
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
    void keepsQuotesAndControlCharactersOfTheText(@TempDir Path tmp) throws IOException {
        Path in = tmp.resolve("in.json");
        String text = "a\"b\\c\n\u0001";
        new ObjectMapper().writeValue(in.toFile(), Map.of("cases", List.of(Map.of("text", text))));
        Path out = tmp.resolve("out.json");
        TokenizerComponent.run(Golden.ckpt(), in, out);
        assertThat(cases(out).get(0).get("text")).isEqualTo(text);
    }

    @Test
    void refusesAFileWithoutCases(@TempDir Path tmp) throws IOException {
        Path in = tmp.resolve("in.json");
        Files.writeString(in, "{\"texts\": []}");
        assertThatThrownBy(() -> TokenizerComponent.run(Golden.ckpt(), in, tmp.resolve("out.json")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cases");
    }
}
