package dev.localai.tts.core.checkpoint.tiny;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real, small GPT-2-style byte-level BPE tokenizer: the 256 byte symbols (GPT-2's byte-to-unicode alphabet, in
 * GPT-2's id order), merges learned deterministically from an embedded English text, {@code <|endoftext|>}, then the 19
 * Turbo paralinguistic tags as added tokens. The files have the same names and formats as the official ones.
 */
public final class TinyBpe {
    /** The Turbo tags in the id order of the golden checkpoint (ids follow the base vocabulary). */
    public static final List<String> TAGS = List.of("[angry]", "[fear]", "[surprised]", "[whispering]",
            "[advertisement]", "[dramatic]", "[narration]", "[crying]", "[happy]", "[sarcastic]", "[clear throat]",
            "[sigh]", "[shush]", "[cough]", "[groan]", "[sniff]", "[gasp]", "[chuckle]", "[laugh]");
    public static final String EOS = "<|endoftext|>";

    /** GPT-2's pre-tokenizer. */
    static final Pattern PRETOKENIZE = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

    private final List<String> vocab; // id -> token (base vocabulary, without the added tags)
    private final List<String[]> merges;

    private TinyBpe(List<String> vocab, List<String[]> merges) {
        this.vocab = List.copyOf(vocab);
        this.merges = List.copyOf(merges);
    }

    /** Byte values in GPT-2's vocabulary order: printable bytes first, then the rest. */
    static int[] byteOrder() {
        List<Integer> bs = new ArrayList<>();
        for (int b = '!'; b <= '~'; b++) {
            bs.add(b);
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            bs.add(b);
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            bs.add(b);
        }
        for (int b = 0; b < 256; b++) {
            if (!bs.contains(b)) {
                bs.add(b);
            }
        }
        return bs.stream().mapToInt(Integer::intValue).toArray();
    }

    /** GPT-2's byte-to-unicode table: printable bytes map to themselves, the others to U+0100 onwards. */
    static char[] byteToUnicode() {
        char[] map = new char[256];
        int n = 0;
        int[] order = byteOrder();
        for (int i = 0; i < 256; i++) {
            int b = order[i];
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[b] = printable ? (char) b : (char) (256 + n++);
        }
        return map;
    }

    /** The embedded training text. */
    static String corpus() {
        try (InputStream in = TinyBpe.class.getResourceAsStream("corpus.txt")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Learns merges until the vocabulary (bytes + merges + {@code <|endoftext|>} + the tags) has exactly
     * {@code totalSize} entries. Ties between equally frequent pairs go to the lexicographically smallest pair.
     */
    public static TinyBpe train(int totalSize) {
        return TRAINED.computeIfAbsent(totalSize, TinyBpe::learn);
    }

    private static final java.util.concurrent.ConcurrentHashMap<Integer, TinyBpe> TRAINED =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static TinyBpe learn(int totalSize) {
        int mergesWanted = totalSize - 256 - 1 - TAGS.size();
        if (mergesWanted < 0) {
            throw new IllegalArgumentException("vocabulary of " + totalSize + " is too small");
        }
        char[] b2u = byteToUnicode();
        Map<String, Integer> wordCounts = new LinkedHashMap<>();
        Matcher m = PRETOKENIZE.matcher(corpus());
        while (m.find()) {
            StringBuilder sb = new StringBuilder();
            for (byte b : m.group().getBytes(StandardCharsets.UTF_8)) {
                sb.append(b2u[b & 0xff]);
            }
            wordCounts.merge(sb.toString(), 1, Integer::sum);
        }
        List<List<String>> words = new ArrayList<>();
        List<Integer> counts = new ArrayList<>();
        for (Map.Entry<String, Integer> e : wordCounts.entrySet()) {
            List<String> symbols = new ArrayList<>();
            e.getKey().codePoints().forEach(c -> symbols.add(new String(Character.toChars(c))));
            words.add(symbols);
            counts.add(e.getValue());
        }
        List<String> vocab = new ArrayList<>();
        for (int b : byteOrder()) {
            vocab.add(String.valueOf(b2u[b]));
        }
        java.util.Set<String> known = new java.util.HashSet<>(vocab);
        List<String[]> merges = new ArrayList<>();
        while (merges.size() < mergesWanted) {
            Map<String, Integer> pairs = new HashMap<>();
            for (int w = 0; w < words.size(); w++) {
                List<String> s = words.get(w);
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (!known.contains(s.get(i) + s.get(i + 1))) {
                        pairs.merge(s.get(i) + "\u0000" + s.get(i + 1), counts.get(w), Integer::sum);
                    }
                }
            }
            String best = null;
            int bestCount = 0;
            for (Map.Entry<String, Integer> e : pairs.entrySet()) {
                if (e.getValue() > bestCount || (e.getValue() == bestCount && e.getKey().compareTo(best) < 0)) {
                    best = e.getKey();
                    bestCount = e.getValue();
                }
            }
            if (best == null) {
                throw new IllegalStateException("the embedded text yields only " + merges.size() + " merges, "
                        + mergesWanted + " wanted");
            }
            String[] pair = best.split("\u0000", 2);
            String joined = pair[0] + pair[1];
            merges.add(pair);
            vocab.add(joined);
            known.add(joined);
            for (List<String> s : words) {
                for (int i = 0; i + 1 < s.size(); i++) {
                    if (s.get(i).equals(pair[0]) && s.get(i + 1).equals(pair[1])) {
                        s.set(i, joined);
                        s.remove(i + 1);
                    }
                }
            }
        }
        vocab.add(EOS);
        return new TinyBpe(vocab, merges);
    }

    /** Base vocabulary size (bytes + merges + {@code <|endoftext|>}). */
    public int baseVocabSize() {
        return vocab.size();
    }

    public int totalSize() {
        return vocab.size() + TAGS.size();
    }

    public List<String[]> merges() {
        return merges;
    }

    /** Writes vocab.json, merges.txt, added_tokens.json, tokenizer_config.json and special_tokens_map.json. */
    public void write(Path dir) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode v = json.createObjectNode();
        for (int i = 0; i < vocab.size(); i++) {
            v.put(vocab.get(i), i);
        }
        Files.writeString(dir.resolve("vocab.json"), json.writeValueAsString(v), StandardCharsets.UTF_8);

        StringBuilder sb = new StringBuilder("#version: 0.2\n");
        for (String[] p : merges) {
            sb.append(p[0]).append(' ').append(p[1]).append('\n');
        }
        Files.writeString(dir.resolve("merges.txt"), sb.toString(), StandardCharsets.UTF_8);

        ObjectNode added = json.createObjectNode();
        for (int i = 0; i < TAGS.size(); i++) {
            added.put(TAGS.get(i), vocab.size() + i);
        }
        Files.writeString(dir.resolve("added_tokens.json"), json.writeValueAsString(added), StandardCharsets.UTF_8);

        ObjectNode special = json.createObjectNode();
        special.put("bos_token", EOS).put("eos_token", EOS).put("unk_token", EOS);
        Files.writeString(dir.resolve("special_tokens_map.json"), json.writeValueAsString(special),
                StandardCharsets.UTF_8);

        ObjectNode cfg = json.createObjectNode();
        cfg.put("tokenizer_class", "GPT2Tokenizer").put("add_bos_token", false).put("add_prefix_space", false)
                .put("model_max_length", 1024).put("errors", "replace").put("bos_token", EOS).put("eos_token", EOS)
                .put("unk_token", EOS);
        Files.writeString(dir.resolve("tokenizer_config.json"), json.writeValueAsString(cfg), StandardCharsets.UTF_8);
    }
}
