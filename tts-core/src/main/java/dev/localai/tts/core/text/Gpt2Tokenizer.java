package dev.localai.tts.core.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GPT-2 byte-level BPE tokenizer read from the Hugging Face tokenizer files of a model directory
 * ({@code vocab.json}, {@code merges.txt}, {@code added_tokens.json}, {@code tokenizer_config.json},
 * {@code special_tokens_map.json}). It gives the same ids as the Hugging Face GPT-2 tokenizer:
 *
 * <ol>
 *   <li>added tokens (the paralinguistic tags such as {@code [laugh]}, and the special {@code <|endoftext|>}) are cut out
 *       of the text first, leftmost-longest, honouring their {@code lstrip}/{@code rstrip}/{@code single_word} flags;</li>
 *   <li>each remaining piece is pre-tokenised with the GPT-2 pattern (contractions, letters, numbers, other symbols,
 *       whitespace), each pre-token's UTF-8 bytes are mapped to printable characters (the GPT-2 byte table) and merged
 *       by merge rank;</li>
 *   <li>no BOS/EOS is added (GPT-2 defaults; {@code add_bos_token} is honoured if a config sets it).</li>
 * </ol>
 * Instances are immutable and thread-safe.
 */
public final class Gpt2Tokenizer {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** GPT-2's pre-tokenisation pattern, with Unicode {@code \s} (the White_Space property, as Python's regex). */
    private static final Pattern PRE_TOKENIZE = Pattern.compile(
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            Pattern.UNICODE_CHARACTER_CLASS);

    private static final char[] BYTE_TO_CHAR = new char[256];
    private static final int[] CHAR_TO_BYTE = new int[512];

    static {
        Arrays.fill(CHAR_TO_BYTE, -1);
        boolean[] direct = new boolean[256];
        for (int b = '!'; b <= '~'; b++) {
            direct[b] = true;
        }
        for (int b = 0xA1; b <= 0xAC; b++) {
            direct[b] = true;
        }
        for (int b = 0xAE; b <= 0xFF; b++) {
            direct[b] = true;
        }
        int n = 0;
        for (int b = 0; b < 256; b++) {
            char c = direct[b] ? (char) b : (char) (256 + n++);
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    /** An added token with the Hugging Face {@code AddedToken} flags that change how text around it is split. */
    public record AddedToken(String content, int id, boolean lstrip, boolean rstrip, boolean singleWord,
                             boolean special) {
    }

    private final Map<String, Integer> vocab;
    private final String[] idToToken;
    private final Map<String, Integer> mergeRanks;
    private final Map<String, AddedToken> added;
    private final List<AddedToken> addedByLength;
    private final int size;
    private final int modelMaxLength;
    private final boolean addPrefixSpace;
    private final Integer bosId;
    private final boolean addBos;
    private final int unkId;
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private Gpt2Tokenizer(Map<String, Integer> vocab, Map<String, Integer> mergeRanks, Map<String, AddedToken> added,
                          int modelMaxLength, boolean addPrefixSpace, Integer bosId, boolean addBos, int unkId) {
        this.vocab = vocab;
        this.mergeRanks = mergeRanks;
        this.added = added;
        this.modelMaxLength = modelMaxLength;
        this.addPrefixSpace = addPrefixSpace;
        this.bosId = bosId;
        this.addBos = addBos;
        this.unkId = unkId;
        List<AddedToken> byLen = new ArrayList<>(added.values());
        byLen.sort(Comparator.comparingInt((AddedToken t) -> t.content().length()).reversed());
        this.addedByLength = List.copyOf(byLen);
        int maxId = -1;
        for (int id : vocab.values()) {
            maxId = Math.max(maxId, id);
        }
        for (AddedToken t : added.values()) {
            maxId = Math.max(maxId, t.id());
        }
        this.idToToken = new String[maxId + 1];
        vocab.forEach((k, v) -> idToToken[v] = k);
        int count = vocab.size();
        for (AddedToken t : added.values()) {
            if (idToToken[t.id()] == null) {
                count++;
            }
            idToToken[t.id()] = t.content();
        }
        this.size = count;
    }

    /** Reads the tokenizer files of {@code dir}; {@code vocab.json} and {@code merges.txt} are required. */
    public static Gpt2Tokenizer load(Path dir) {
        try {
            Map<String, Integer> vocab = new HashMap<>();
            for (Map.Entry<String, Object> e : readObject(dir.resolve("vocab.json")).entrySet()) {
                vocab.put(e.getKey(), ((Number) e.getValue()).intValue());
            }
            Map<String, Integer> ranks = new HashMap<>();
            int rank = 0;
            for (String line : Files.readAllLines(dir.resolve("merges.txt"), StandardCharsets.UTF_8)) {
                if (line.startsWith("#version") || line.isBlank()) {
                    continue;
                }
                String[] parts = line.trim().split(" ");
                if (parts.length != 2) {
                    throw new IllegalArgumentException("merges.txt: bad line '" + line + "'");
                }
                ranks.putIfAbsent(parts[0] + ' ' + parts[1], rank++);
            }

            Map<String, Object> config = Files.exists(dir.resolve("tokenizer_config.json"))
                    ? readObject(dir.resolve("tokenizer_config.json")) : Map.of();
            Map<String, Object> specialMap = Files.exists(dir.resolve("special_tokens_map.json"))
                    ? readObject(dir.resolve("special_tokens_map.json")) : Map.of();

            Map<String, AddedToken> added = new LinkedHashMap<>();
            // special tokens (bos/eos/unk/pad...) are never split, like added tokens
            for (String key : List.of("bos_token", "eos_token", "unk_token", "pad_token", "sep_token", "cls_token",
                    "mask_token")) {
                Object v = specialMap.containsKey(key) ? specialMap.get(key) : config.get(key);
                addSpecial(v, vocab, added);
            }
            if (specialMap.get("additional_special_tokens") instanceof List<?> l) {
                for (Object v : l) {
                    addSpecial(v, vocab, added);
                }
            }
            Path addedFile = dir.resolve("added_tokens.json");
            if (Files.exists(addedFile)) {
                for (Map.Entry<String, Object> e : readObject(addedFile).entrySet()) {
                    int id = ((Number) e.getValue()).intValue();
                    added.putIfAbsent(e.getKey(), new AddedToken(e.getKey(), id, false, false, false, false));
                }
            }
            // tokenizer_config.json's added_tokens_decoder, when present, carries the authoritative flags
            if (config.get("added_tokens_decoder") instanceof Map<?, ?> dec) {
                for (Map.Entry<?, ?> e : dec.entrySet()) {
                    int id = Integer.parseInt(e.getKey().toString());
                    Map<?, ?> t = (Map<?, ?>) e.getValue();
                    String content = (String) t.get("content");
                    added.put(content, new AddedToken(content, id, flag(t, "lstrip"), flag(t, "rstrip"),
                            flag(t, "single_word"), flag(t, "special")));
                }
            }
            int maxLen = config.get("model_max_length") instanceof Number n && n.doubleValue() < Integer.MAX_VALUE
                    ? n.intValue() : Integer.MAX_VALUE;
            boolean prefixSpace = Boolean.TRUE.equals(config.get("add_prefix_space"));
            boolean addBos = Boolean.TRUE.equals(config.get("add_bos_token"));
            Integer bos = tokenContent(specialMap.getOrDefault("bos_token", config.get("bos_token")))
                    instanceof String s ? lookup(s, vocab, added) : null;
            String unk = tokenContent(specialMap.getOrDefault("unk_token", config.get("unk_token")));
            Integer unkId = unk == null ? null : lookup(unk, vocab, added);
            return new Gpt2Tokenizer(vocab, ranks, added, maxLen, prefixSpace, bos, addBos,
                    unkId == null ? -1 : unkId);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read tokenizer files in " + dir, e);
        }
    }

    private static Integer lookup(String s, Map<String, Integer> vocab, Map<String, AddedToken> added) {
        AddedToken t = added.get(s);
        return t != null ? Integer.valueOf(t.id()) : vocab.get(s);
    }

    private static boolean flag(Map<?, ?> m, String key) {
        return Boolean.TRUE.equals(m.get(key));
    }

    private static String tokenContent(Object v) {
        if (v instanceof String s) {
            return s;
        }
        if (v instanceof Map<?, ?> m && m.get("content") instanceof String s) {
            return s;
        }
        return null;
    }

    private static void addSpecial(Object v, Map<String, Integer> vocab, Map<String, AddedToken> added) {
        String content = tokenContent(v);
        if (content == null || added.containsKey(content)) {
            return;
        }
        Integer id = vocab.get(content);
        if (id == null) {
            return;
        }
        boolean lstrip = v instanceof Map<?, ?> m && flag(m, "lstrip");
        boolean rstrip = v instanceof Map<?, ?> m2 && flag(m2, "rstrip");
        boolean single = v instanceof Map<?, ?> m3 && flag(m3, "single_word");
        added.put(content, new AddedToken(content, id, lstrip, rstrip, single, true));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> readObject(Path file) throws IOException {
        Object v;
        try {
            v = JSON.readValue(Files.readString(file, StandardCharsets.UTF_8), Object.class);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(file + ": not JSON (" + e.getOriginalMessage() + ")", e);
        }
        if (!(v instanceof Map)) {
            throw new IllegalArgumentException(file + ": not a JSON object");
        }
        return (Map<String, Object>) v;
    }

    /** {@code len(tokenizer)}: the vocabulary plus added tokens not already in it (50276 for Turbo). */
    public int size() {
        return size;
    }

    /** The tokenizer's {@code model_max_length} (1024 for GPT-2), used by {@link #encodeTruncated}. */
    public int modelMaxLength() {
        return modelMaxLength;
    }

    /** The added tokens (tags and special tokens), by content. */
    public Map<String, AddedToken> addedTokens() {
        return Collections.unmodifiableMap(added);
    }

    /** The id of a vocabulary or added token. */
    public OptionalInt tokenId(String token) {
        AddedToken t = added.get(token);
        if (t != null) {
            return OptionalInt.of(t.id());
        }
        Integer id = vocab.get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Token ids of {@code text} as Hugging Face's {@code tokenizer(text).input_ids}, without truncation. */
    public int[] encode(String text) {
        if (addPrefixSpace) {
            text = " " + text;
        }
        List<String> pieces = splitOnAdded(text);
        IntList out = new IntList(text.length());
        if (addBos && bosId != null) {
            out.add(bosId);
        }
        for (String piece : pieces) {
            if (piece.isEmpty()) {
                continue;
            }
            AddedToken t = added.get(piece);
            if (t != null) {
                out.add(t.id());
                continue;
            }
            Matcher m = PRE_TOKENIZE.matcher(piece);
            while (m.find()) {
                for (int id : bpeIds(m.group())) {
                    out.add(id);
                }
            }
        }
        return out.toArray();
    }

    /**
     * As upstream's {@code tokenizer(text, truncation=True)}: {@link #encode} then keep the first
     * {@link #modelMaxLength()} ids.
     */
    public int[] encodeTruncated(String text) {
        int[] ids = encode(text);
        return ids.length > modelMaxLength ? Arrays.copyOf(ids, modelMaxLength) : ids;
    }

    /** The text of {@code ids}: added tokens verbatim, byte-level tokens decoded as UTF-8 (invalid bytes replaced). */
    public String decode(int[] ids) {
        StringBuilder sb = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= idToToken.length || idToToken[id] == null) {
                throw new IllegalArgumentException("unknown token id " + id);
            }
            String tok = idToToken[id];
            if (added.containsKey(tok) && !vocab.containsKey(tok)) {
                flush(bytes, sb);
                sb.append(tok);
                continue;
            }
            for (int i = 0; i < tok.length(); i++) {
                char c = tok.charAt(i);
                int b = c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
                if (b < 0) {
                    throw new IllegalStateException("token '" + tok + "' is not byte-level");
                }
                bytes.write(b);
            }
        }
        flush(bytes, sb);
        return sb.toString();
    }

    private static void flush(ByteArrayOutputStream bytes, StringBuilder sb) {
        if (bytes.size() > 0) {
            sb.append(new String(bytes.toByteArray(), StandardCharsets.UTF_8));
            bytes.reset();
        }
    }

    /**
     * Cuts {@code text} into added tokens and plain pieces (Hugging Face's trie split: leftmost, then longest), then
     * applies the added tokens' strip / single-word flags to the neighbouring pieces.
     */
    List<String> splitOnAdded(String text) {
        List<String> parts = new ArrayList<>();
        if (added.isEmpty()) {
            parts.add(text);
            return parts;
        }
        int start = 0;
        int i = 0;
        while (i < text.length()) {
            AddedToken hit = null;
            for (AddedToken t : addedByLength) {
                if (text.startsWith(t.content(), i)) {
                    hit = t;
                    break;
                }
            }
            if (hit == null) {
                i++;
                continue;
            }
            if (i > start) {
                parts.add(text.substring(start, i));
            }
            parts.add(hit.content());
            i += hit.content().length();
            start = i;
        }
        if (start < text.length()) {
            parts.add(text.substring(start));
        }
        for (int k = 0; k < parts.size(); k++) {
            AddedToken t = added.get(parts.get(k));
            if (t == null) {
                continue;
            }
            String left = k > 0 ? parts.get(k - 1) : null;
            String right = k < parts.size() - 1 ? parts.get(k + 1) : null;
            if (t.rstrip() && right != null && !right.isEmpty()) {
                parts.set(k + 1, pyStrip(right, true, false));
            }
            if (t.lstrip() && left != null && !left.isEmpty()) {
                parts.set(k - 1, pyStrip(left, false, true));
            }
            left = k > 0 ? parts.get(k - 1) : null;
            right = k < parts.size() - 1 ? parts.get(k + 1) : null;
            if (t.singleWord() && left != null && !left.isEmpty() && !left.endsWith(" ")) {
                parts.set(k - 1, left + parts.get(k));
                parts.set(k, "");
            } else if (t.singleWord() && right != null && !right.isEmpty() && !right.startsWith(" ")) {
                parts.set(k, parts.get(k) + right);
                parts.set(k + 1, "");
            }
        }
        return parts;
    }

    private static String pyStrip(String s, boolean leading, boolean trailing) {
        int b = 0;
        int e = s.length();
        if (leading) {
            while (b < e && PuncNorm.isPythonSpace(s.codePointAt(b))) {
                b += Character.charCount(s.codePointAt(b));
            }
        }
        if (trailing) {
            while (e > b && PuncNorm.isPythonSpace(s.codePointBefore(e))) {
                e -= Character.charCount(s.codePointBefore(e));
            }
        }
        return s.substring(b, e);
    }

    /** Byte-level BPE of one pre-token, cached. */
    private int[] bpeIds(String preToken) {
        int[] cached = cache.get(preToken);
        if (cached != null) {
            return cached;
        }
        byte[] utf8 = preToken.getBytes(StandardCharsets.UTF_8);
        List<String> word = new ArrayList<>(utf8.length);
        for (byte b : utf8) {
            word.add(String.valueOf(BYTE_TO_CHAR[b & 0xFF]));
        }
        while (word.size() > 1) {
            int bestRank = Integer.MAX_VALUE;
            String bestFirst = null;
            String bestSecond = null;
            for (int i = 0; i + 1 < word.size(); i++) {
                Integer r = mergeRanks.get(word.get(i) + ' ' + word.get(i + 1));
                if (r != null && r < bestRank) {
                    bestRank = r;
                    bestFirst = word.get(i);
                    bestSecond = word.get(i + 1);
                }
            }
            if (bestFirst == null) {
                break;
            }
            List<String> merged = new ArrayList<>(word.size());
            for (int i = 0; i < word.size(); ) {
                if (i + 1 < word.size() && word.get(i).equals(bestFirst) && word.get(i + 1).equals(bestSecond)) {
                    merged.add(bestFirst + bestSecond);
                    i += 2;
                } else {
                    merged.add(word.get(i));
                    i++;
                }
            }
            word = merged;
        }
        int[] ids = new int[word.size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = vocab.get(word.get(i));
            if (id == null) {
                if (unkId < 0) {
                    throw new IllegalStateException("token '" + word.get(i) + "' not in vocab and no unk token");
                }
                id = unkId;
            }
            ids[i] = id;
        }
        if (cache.size() > 200_000) {
            cache.clear();
        }
        cache.put(preToken, ids);
        return ids;
    }

    private static final class IntList {
        private int[] a;
        private int n;

        IntList(int cap) {
            a = new int[Math.max(4, cap)];
        }

        void add(int v) {
            if (n == a.length) {
                a = Arrays.copyOf(a, n * 2);
            }
            a[n++] = v;
        }

        int[] toArray() {
            return Arrays.copyOf(a, n);
        }
    }
}
