package dev.localai.tts.core.parity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.core.text.Gpt2Tokenizer;
import dev.localai.tts.core.text.PuncNorm;
import dev.localai.tts.core.text.TextFrontEnd;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code tts component tokenizer}: the text front end ({@code punc_norm}, then the GPT-2 tokenizer of
 * {@code MODEL_DIR}) on the cases of a JSON file in the golden {@code tokenizer.json} layout
 * ({@code {"cases": [{"text": ...}, ...]}}, other fields ignored); writes the same layout with each case's
 * {@code text}, {@code punc_norm} and {@code ids}. Text is not a tensor, so this stage reads and writes JSON.
 */
public final class TokenizerComponent {
    private static final ObjectMapper JSON = new ObjectMapper();

    private TokenizerComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        List<String> texts = texts(read(inFile), inFile);
        Gpt2Tokenizer tok = Gpt2Tokenizer.load(modelDir);
        TextFrontEnd fe = new TextFrontEnd(tok);
        ObjectNode root = JSON.createObjectNode()
                .put("tokenizer", "localai-tts Gpt2Tokenizer (" + modelDir.getFileName() + ")")
                .put("len", tok.size());
        ArrayNode cases = root.putArray("cases");
        for (String t : texts) {
            ArrayNode ids = cases.addObject().put("text", t).put("punc_norm", PuncNorm.normalize(t)).putArray("ids");
            for (int id : fe.textTokens(t)) {
                ids.add(id);
            }
        }
        try {
            JSON.writerWithDefaultPrettyPrinter().writeValue(outFile.toFile(), root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonNode read(Path f) {
        try {
            return JSON.readTree(f.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException(f + " is not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> texts(JsonNode root, Path f) {
        JsonNode cases = root == null ? null : root.get("cases");
        if (cases == null || !cases.isArray()) {
            throw new IllegalArgumentException(f + ": expected {\"cases\": [{\"text\": ...}, ...]}");
        }
        List<String> texts = new ArrayList<>();
        for (JsonNode c : cases) {
            JsonNode text = c.get("text");
            if (text == null || !text.isTextual()) {
                throw new IllegalArgumentException(f + ": every case needs a \"text\" string");
            }
            texts.add(text.asText());
        }
        return texts;
    }
}
