package dev.localai.tts.core.text;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * {@code tts component tokenizer}: the text front end ({@code punc_norm}, then the GPT-2 tokenizer of
 * {@code MODEL_DIR}) on the cases of a JSON file in the golden {@code tokenizer.json} layout
 * ({@code {"cases": [{"text": ...}, ...]}}, other fields ignored); writes the same layout with each case's
 * {@code text}, {@code punc_norm} and {@code ids}. Text is not a tensor, so this stage reads and writes JSON.
 */
public final class TokenizerComponent {
    private TokenizerComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        List<String> texts = texts(read(inFile), inFile);
        Gpt2Tokenizer tok = Gpt2Tokenizer.load(modelDir);
        TextFrontEnd fe = new TextFrontEnd(tok);
        StringBuilder sb = new StringBuilder();
        sb.append("{\n \"tokenizer\": ").append(quote("localai-tts Gpt2Tokenizer (" + modelDir.getFileName() + ")"))
                .append(",\n \"len\": ").append(tok.size()).append(",\n \"cases\": [");
        for (int i = 0; i < texts.size(); i++) {
            String t = texts.get(i);
            sb.append(i == 0 ? "\n" : ",\n").append("  {\"text\": ").append(quote(t))
                    .append(", \"punc_norm\": ").append(quote(PuncNorm.normalize(t))).append(", \"ids\": [");
            int[] ids = fe.textTokens(t);
            for (int j = 0; j < ids.length; j++) {
                sb.append(j == 0 ? "" : ", ").append(ids[j]);
            }
            sb.append("]}");
        }
        sb.append("\n ]\n}\n");
        try {
            Files.writeString(outFile, sb, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String read(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> texts(String json, Path f) {
        Object root;
        try {
            root = MiniJson.parse(json);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(f + " is not JSON: " + e.getMessage(), e);
        }
        if (root instanceof Map<?, ?> m && m.get("cases") instanceof List<?> cases) {
            return cases.stream().map(c -> {
                if (c instanceof Map<?, ?> cm && cm.get("text") instanceof String s) {
                    return s;
                }
                throw new IllegalArgumentException(f + ": every case needs a \"text\" string");
            }).toList();
        }
        throw new IllegalArgumentException(f + ": expected {\"cases\": [{\"text\": ...}, ...]}");
    }

    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
