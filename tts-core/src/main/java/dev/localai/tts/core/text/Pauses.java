package dev.localai.tts.core.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pause syntax of the input text: {@code [pause:0.5s]}, {@code [pause:500ms]} (or a bare number of seconds,
 * {@code [pause:1]}) asks for exactly that much silence at that point. The text is split at the tags; each piece is
 * spoken on its own and the silence is joined between them. A pause is at most {@value #MAX_SECONDS} s, and one
 * text's pauses add up to at most {@value #MAX_TOTAL_SECONDS} s; anything else that starts like a pause tag is an
 * error, so a typo is reported rather than read aloud.
 */
public final class Pauses {
    /** The longest single pause, in seconds. */
    public static final double MAX_SECONDS = 10.0;
    /** The most silence the pauses of one text may add up to, in seconds. */
    public static final double MAX_TOTAL_SECONDS = 60.0;
    /** How the syntax is written, for error messages and listings. */
    public static final String SYNTAX = "[pause:0.5s]";

    private static final Pattern TAG = Pattern.compile("\\[\\s*pause\\s*:([^\\]\\[]*)]", Pattern.CASE_INSENSITIVE);
    private static final Pattern OPEN = Pattern.compile("\\[\\s*pause\\s*:", Pattern.CASE_INSENSITIVE);
    private static final Pattern VALUE = Pattern.compile("\\s*(\\d+(?:\\.\\d*)?|\\.\\d+)\\s*(ms|s|sec|secs|seconds)?\\s*",
            Pattern.CASE_INSENSITIVE);

    private Pauses() {
    }

    /** A piece of the text: words to speak, or a pause. */
    public sealed interface Part permits Speech, Pause {
    }

    /** Words to speak (trimmed, never blank). */
    public record Speech(String text) implements Part {
    }

    /** A pause of {@code seconds} (0 to {@value #MAX_SECONDS}). */
    public record Pause(double seconds) implements Part {
        /** The pause's length in samples at {@code sampleRate}. */
        public int samples(int sampleRate) {
            return (int) Math.round(seconds * sampleRate);
        }
    }

    /** Whether {@code text} holds anything that looks like a pause tag. */
    public static boolean mentionsPause(String text) {
        return OPEN.matcher(text).find();
    }

    /**
     * Splits {@code text} at its pause tags. A text without tags is one {@link Speech} (or nothing when blank).
     *
     * @throws IllegalArgumentException naming the tag, when a pause tag is malformed, longer than
     *                                  {@value #MAX_SECONDS} s, or the pauses add up to more than
     *                                  {@value #MAX_TOTAL_SECONDS} s
     */
    public static List<Part> split(String text) {
        List<Part> out = new ArrayList<>();
        if (!mentionsPause(text)) {
            addSpeech(out, text);
            return out;
        }
        Matcher m = TAG.matcher(text);
        int from = 0;
        double total = 0;
        while (m.find()) {
            addSpeech(out, text.substring(from, m.start()));
            Pause p = new Pause(seconds(m.group(), m.group(1)));
            total += p.seconds();
            out.add(p);
            from = m.end();
        }
        String rest = text.substring(from);
        Matcher open = OPEN.matcher(rest);
        if (open.find()) {
            int end = Math.min(rest.length(), open.start() + 20);
            throw new IllegalArgumentException("unclosed pause tag '" + rest.substring(open.start(), end)
                    + "…': write " + SYNTAX + " or [pause:500ms]");
        }
        if (total > MAX_TOTAL_SECONDS + 1e-9) {
            throw new IllegalArgumentException(String.format(Locale.ROOT,
                    "the pauses add up to %.3g s; at most %.0f s of pauses are allowed in one text", total,
                    MAX_TOTAL_SECONDS));
        }
        addSpeech(out, rest);
        return out;
    }

    /** Checks every pause tag of {@code text}; throws {@link IllegalArgumentException} as {@link #split} does. */
    public static void validate(String text) {
        if (mentionsPause(text)) {
            split(text);
        }
    }

    private static double seconds(String tag, String value) {
        Matcher v = VALUE.matcher(value);
        if (!v.matches()) {
            throw new IllegalArgumentException("invalid pause tag '" + tag + "': write " + SYNTAX
                    + " or [pause:500ms] (seconds or milliseconds, up to " + (int) MAX_SECONDS + " s)");
        }
        double s = Double.parseDouble(v.group(1));
        if ("ms".equalsIgnoreCase(v.group(2))) {
            s /= 1000;
        }
        if (s > MAX_SECONDS) {
            throw new IllegalArgumentException("pause tag '" + tag + "' is too long: a pause is at most "
                    + (int) MAX_SECONDS + " s");
        }
        return s;
    }

    private static void addSpeech(List<Part> out, String s) {
        String t = s.strip();
        if (!t.isEmpty()) {
            out.add(new Speech(t));
        }
    }
}
