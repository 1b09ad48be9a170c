package dev.localai.tts.core.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Splits long input into sentences and packs them into chunks of bounded length, for synthesis piece by piece
 * (streaming). Paralinguistic tags ({@code [laugh]}, {@code [clear throat]}...) are never cut: text inside square
 * brackets is treated as one unbreakable unit.
 *
 * <p>A sentence ends after {@code . ! ? …} (or CJK {@code 。！？}) possibly followed by closing quotes or brackets,
 * when whitespace or the end follows (CJK enders need no whitespace); a line break ends a sentence too. A full stop
 * after a common abbreviation ({@code Mr.}, {@code e.g.}) or a single-letter initial does not end a sentence.
 * Pieces are returned trimmed; their concatenation with single spaces keeps every non-whitespace character.
 */
public final class SentenceSplitter {

    private static final Set<String> ABBREVIATIONS = Set.of(
            "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "e.g", "i.e", "fig", "approx",
            "mt", "ft", "inc", "ltd", "co", "corp", "dept", "est", "gen", "gov", "lt", "col", "sgt", "capt",
            "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "u.s", "u.k");

    private SentenceSplitter() {
    }

    /** The sentences of {@code text}, trimmed, empty ones dropped. */
    public static List<String> sentences(String text) {
        List<String> out = new ArrayList<>();
        int start = 0;
        int depth = 0;
        int n = text.length();
        for (int i = 0; i < n; i++) {
            char c = text.charAt(i);
            if (c == '[') {
                depth++;
                continue;
            }
            if (c == ']') {
                depth = Math.max(0, depth - 1);
                continue;
            }
            if (depth > 0) {
                continue;
            }
            if (c == '\n' || c == '\r') {
                add(out, text.substring(start, i));
                start = i + 1;
                continue;
            }
            boolean cjk = c == '\u3002' || c == '\uFF01' || c == '\uFF1F';
            if (!(c == '.' || c == '!' || c == '?' || c == '\u2026' || cjk)) {
                continue;
            }
            int end = i + 1;
            while (end < n && isEnderOrCloser(text.charAt(end))) {
                end++;
            }
            boolean boundary = end >= n || Character.isWhitespace(text.charAt(end)) || cjk
                    || text.charAt(end) == '\u00A0';
            if (!boundary) {
                i = end - 1;
                continue;
            }
            if (c == '.' && end == i + 1 && isAbbreviation(text, i)) {
                continue;
            }
            add(out, text.substring(start, end));
            start = end;
            i = end - 1;
        }
        add(out, text.substring(start));
        return out;
    }

    /**
     * Sentences packed greedily into chunks of at most {@code maxChars} characters (joined by one space). A sentence
     * longer than {@code maxChars} is cut at the last clause mark ({@code , ; : -}) or space before the limit that is
     * not inside a tag; a single unbreakable word or tag longer than the limit becomes its own chunk.
     */
    public static List<String> chunks(String text, int maxChars) {
        if (maxChars < 1) {
            throw new IllegalArgumentException("maxChars must be positive: " + maxChars);
        }
        List<String> out = new ArrayList<>();
        StringBuilder cur = new StringBuilder();
        for (String s : sentences(text)) {
            for (String piece : cutLong(s, maxChars)) {
                if (cur.length() > 0 && cur.length() + 1 + piece.length() > maxChars) {
                    out.add(cur.toString());
                    cur.setLength(0);
                }
                if (cur.length() > 0) {
                    cur.append(' ');
                }
                cur.append(piece);
            }
        }
        if (cur.length() > 0) {
            out.add(cur.toString());
        }
        return out;
    }

    private static List<String> cutLong(String s, int maxChars) {
        List<String> out = new ArrayList<>();
        String rest = s;
        while (rest.length() > maxChars) {
            int cut = findCut(rest, maxChars);
            add(out, rest.substring(0, cut));
            rest = rest.substring(cut).trim();
        }
        add(out, rest);
        return out;
    }

    /** Index to cut {@code s} at (exclusive end of the first part), preferring clause marks, then spaces. */
    private static int findCut(String s, int maxChars) {
        int lastClause = -1;
        int lastSpace = -1;
        int depth = 0;
        int firstFree = -1;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '[') {
                depth++;
            } else if (c == ']') {
                depth = Math.max(0, depth - 1);
            } else if (depth == 0) {
                boolean clause = (c == ',' || c == ';' || c == ':' || c == '-')
                        && i + 1 < s.length() && Character.isWhitespace(s.charAt(i + 1));
                if (clause && i + 1 <= maxChars) {
                    lastClause = i + 1;
                }
                if (Character.isWhitespace(c)) {
                    if (i <= maxChars) {
                        lastSpace = i;
                    } else if (firstFree < 0) {
                        firstFree = i;
                    }
                }
            }
        }
        if (lastClause > 0 && lastClause >= maxChars / 2) {
            return lastClause;
        }
        if (lastSpace > 0) {
            return lastSpace;
        }
        if (lastClause > 0) {
            return lastClause;
        }
        return firstFree > 0 ? firstFree : s.length();
    }

    private static boolean isEnderOrCloser(char c) {
        return c == '.' || c == '!' || c == '?' || c == '\u2026' || c == '"' || c == '\'' || c == ')'
                || c == '\u201D' || c == '\u2019' || c == '\u00BB' || c == '\u300D' || c == '\u300F';
    }

    /** Whether the full stop at {@code dot} closes an abbreviation or an initial rather than a sentence. */
    private static boolean isAbbreviation(String text, int dot) {
        int b = dot;
        while (b > 0 && (Character.isLetter(text.charAt(b - 1)) || text.charAt(b - 1) == '.')) {
            b--;
        }
        String word = text.substring(b, dot);
        if (word.isEmpty()) {
            return false;
        }
        if (word.length() == 1 && Character.isUpperCase(word.charAt(0))) {
            return true;
        }
        return ABBREVIATIONS.contains(word.toLowerCase(Locale.ROOT));
    }

    private static void add(List<String> out, String s) {
        String t = s.strip();
        if (!t.isEmpty()) {
            out.add(t);
        }
    }
}
