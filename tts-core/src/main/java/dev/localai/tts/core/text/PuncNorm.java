package dev.localai.tts.core.text;

import java.util.Locale;

/**
 * The text clean-up Chatterbox Turbo applies before tokenising ({@code punc_norm} upstream), reproduced exactly.
 *
 * <ol>
 *   <li>an empty text becomes a fixed sentence;</li>
 *   <li>a lower-case first character is upper-cased (full case mapping, so {@code ß} becomes {@code SS});</li>
 *   <li>whitespace runs (Python's {@code str.isspace} set) collapse to one space, both ends trimmed;</li>
 *   <li>fixed substring replacements, in order: ellipsis, colon, em/en dash, space-comma, curly quotes;</li>
 *   <li>trailing spaces are dropped and a full stop is added unless the text ends in {@code . ! ? - ,}.</li>
 * </ol>
 * Capitalisation happens before the whitespace collapse, so a text starting with a space keeps its lower case.
 */
public final class PuncNorm {

    /** What an empty input is replaced with. */
    public static final String EMPTY_REPLACEMENT = "You need to add some text for me to talk.";

    private static final String[][] REPLACEMENTS = {
        {"\u2026", ", "},   // horizontal ellipsis
        {":", ","},
        {"\u2014", "-"},    // em dash
        {"\u2013", "-"},    // en dash
        {" ,", ","},
        {"\u201C", "\""},   // left double quotation mark
        {"\u201D", "\""},   // right double quotation mark
        {"\u2018", "'"},    // left single quotation mark
        {"\u2019", "'"},    // right single quotation mark
    };

    private PuncNorm() {
    }

    /** Normalises {@code text} the way upstream's {@code punc_norm} does. */
    public static String normalize(String text) {
        if (text.isEmpty()) {
            return EMPTY_REPLACEMENT;
        }
        int first = text.codePointAt(0);
        if (isPythonLower(first)) {
            int len = Character.charCount(first);
            text = new String(Character.toChars(first)).toUpperCase(Locale.ROOT) + text.substring(len);
        }
        text = collapseWhitespace(text);
        for (String[] r : REPLACEMENTS) {
            text = text.replace(r[0], r[1]);
        }
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == ' ') {
            end--;
        }
        text = text.substring(0, end);
        if (!(text.endsWith(".") || text.endsWith("!") || text.endsWith("?") || text.endsWith("-")
                || text.endsWith(","))) {
            text = text + ".";
        }
        return text;
    }

    /** Python's {@code str.islower()} for one code point: a cased, lower-case character. */
    static boolean isPythonLower(int cp) {
        return Character.isLowerCase(cp);
    }

    /** Python's {@code str.isspace()} for one code point. */
    public static boolean isPythonSpace(int cp) {
        return switch (cp) {
            case 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F, 0x20, 0x85, 0xA0, 0x1680,
                 0x2028, 0x2029, 0x202F, 0x205F, 0x3000 -> true;
            default -> cp >= 0x2000 && cp <= 0x200A;
        };
    }

    /** {@code " ".join(text.split())}: split on Python whitespace, drop empty parts, join with one space. */
    static String collapseWhitespace(String text) {
        StringBuilder sb = new StringBuilder(text.length());
        boolean pendingSpace = false;
        for (int i = 0; i < text.length(); ) {
            int cp = text.codePointAt(i);
            i += Character.charCount(cp);
            if (isPythonSpace(cp)) {
                pendingSpace = sb.length() > 0;
            } else {
                if (pendingSpace) {
                    sb.append(' ');
                    pendingSpace = false;
                }
                sb.appendCodePoint(cp);
            }
        }
        return sb.toString();
    }
}
