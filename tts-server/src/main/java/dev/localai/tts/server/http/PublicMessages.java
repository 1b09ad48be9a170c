package dev.localai.tts.server.http;

import java.util.List;
import java.util.regex.Pattern;

/**
 * Makes an internal failure's message fit for a response body: no file system paths (the voice library's staging
 * folders), no native-library internals (FFmpeg's "Has setFormat() been called?", {@code avformat_open_input()}
 * error numbers) and no Java class names. The full message stays in the server log, under the request id.
 */
public final class PublicMessages {
    /**
     * An absolute path (POSIX or Windows; a sentence's full stop after it is not part of it) or any path naming a
     * staging / trash folder of the library.
     */
    private static final Pattern PATH = Pattern.compile(
            "(?<![\\w.~-])(?:[A-Za-z]:)?[/\\\\][^\\s'\"()<>:;,]*(?:[/\\\\][^\\s'\"()<>:;,]*)+(?<!\\.)"
                    + "|\\S*\\.(?:staging|trash|rename)-[0-9a-fA-F-]+\\S*");
    /** The library's own file names ({@code clip.bin}, {@code meta.json}, a conditionals cache). */
    private static final Pattern INTERNAL_FILE = Pattern.compile(
            "\\b(?:clip\\.[A-Za-z0-9]{1,5}|meta\\.json|[\\w.-]+\\.safetensors)\\b");
    /** A fully qualified Java class name ({@code java.io.IOException}, {@code org.bytedeco...Grabber$Exception}). */
    private static final Pattern CLASS = Pattern.compile(
            "\\b(?:[a-z][a-z0-9_]*\\.){2,}[A-Z][\\w$]*");
    /** Where the message turns into a native library's or the JDK's own words, everything after is dropped. */
    private static final List<String> INTERNALS = List.of("avformat", "avcodec", "avutil", "swresample", "swr_",
            "setFormat", "FFmpegFrame", "Grabber", "Exception", "Error:", "javacpp", "bytedeco", "at java.",
            "Caused by");

    private PublicMessages() {
    }

    /** The message without paths, class names and native details; {@code fallback} when nothing useful is left. */
    public static String clean(String message, String fallback) {
        String m = withoutInternals(message, "the uploaded file");
        if (m == null) {
            return fallback;
        }
        m = INTERNAL_FILE.matcher(m).replaceAll("the clip");
        return tidy(m, fallback);
    }

    /**
     * A message about the model (still loading, or why it could not be loaded) fit for a response body: {@code
     * model}, the source as configured, becomes "the model directory" where it is a local path, any other path "a
     * path on the server"; class names and native details go; the model's file names and a Hugging Face repo id
     * ({@code owner/name}: not a path) stay; {@code fallback} when nothing useful is left.
     */
    public static String aboutTheModel(String message, String model, String fallback) {
        String m = message;
        if (m != null && model != null && !model.isBlank() && PATH.matcher(model.strip()).matches()) {
            m = m.replace(model.strip(), "the model directory");
        }
        m = withoutInternals(m, "a path on the server");
        // "model directory /srv/x has no ..." reads "model directory the model directory has no ..." by now
        return m == null ? fallback
                : tidy(m.replaceAll("(?i)(?:the )?model directory the model directory", "the model directory"),
                        fallback);
    }

    /** Everything but the library's own file names: the internals cut, paths named {@code pathName}; null if blank. */
    private static String withoutInternals(String message, String pathName) {
        if (message == null || message.isBlank()) {
            return null;
        }
        String m = message;
        int cut = -1;
        for (String marker : INTERNALS) {
            int i = m.indexOf(marker);
            if (i >= 0 && (cut < 0 || i < cut)) {
                cut = i;
            }
        }
        if (cut >= 0) {
            // drop from the clause that introduces the internal detail (after the last ": " before it)
            int clause = m.lastIndexOf(": ", cut);
            m = clause > 0 ? m.substring(0, clause) : "";
        }
        m = PATH.matcher(m).replaceAll(java.util.regex.Matcher.quoteReplacement(pathName));
        return CLASS.matcher(m).replaceAll("");
    }

    private static String tidy(String m, String fallback) {
        String t = m.replaceAll("\\s+", " ").replaceAll("[\\s:,;]+$", "").trim();
        return t.isEmpty() ? fallback : t;
    }
}
