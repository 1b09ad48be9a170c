package dev.localai.tts.cli;

import dev.localai.tts.core.engine.api.SynthesisProgress;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * What {@code tts speak} shows on standard error while it generates: a progress bar redrawn in place on a terminal
 * (text chunks done, seconds of audio, elapsed time and an estimate of the time left), plain lines when standard
 * error is a file or a pipe (one per finished text chunk, only for text long enough to be split), or nothing.
 */
final class ProgressDisplay implements Consumer<SynthesisProgress> {
    /** How progress is shown. */
    enum Mode { BAR, LINES, OFF }

    private static final int BAR_WIDTH = 24;

    private final PrintWriter err;
    private final Mode mode;
    private int lastChunksDone;
    private int lastWidth;

    ProgressDisplay(PrintWriter err, Mode mode) {
        this.err = err;
        this.mode = mode;
    }

    /**
     * The mode for the {@code --progress} option: {@code bar}, {@code lines}, {@code off}, or {@code auto} (a bar when
     * standard error is a terminal, else lines).
     */
    static Mode mode(String option, Map<String, String> env) {
        return switch (option.toLowerCase(Locale.ROOT)) {
            case "bar" -> Mode.BAR;
            case "lines" -> Mode.LINES;
            case "off", "none" -> Mode.OFF;
            case "auto" -> stderrIsTerminal(env) ? Mode.BAR : Mode.LINES;
            default -> throw new IllegalArgumentException("unknown --progress '" + option
                    + "': use auto, bar, lines or off");
        };
    }

    /**
     * Whether standard error is a terminal. The {@code ./tts} script knows for sure ({@code [ -t 2 ]}) and says so in
     * {@code TTS_STDERR_TERMINAL}; without it, the JVM's console is the best guess.
     */
    static boolean stderrIsTerminal(Map<String, String> env) {
        String told = env.get("TTS_STDERR_TERMINAL");
        if (told != null && !told.isBlank()) {
            return told.strip().equals("1");
        }
        java.io.Console c = System.console();
        if (c == null) {
            return false;
        }
        try {
            // Java 22+ returns a console even when redirected; isTerminal() tells (absent on Java 21)
            return (Boolean) java.io.Console.class.getMethod("isTerminal").invoke(c);
        } catch (ReflectiveOperationException e) {
            return true;
        }
    }

    @Override
    public void accept(SynthesisProgress p) {
        switch (mode) {
            case BAR -> bar(p);
            case LINES -> line(p);
            case OFF -> { }
        }
    }

    private void bar(SynthesisProgress p) {
        int filled = (int) Math.round(p.fraction() * BAR_WIDTH);
        StringBuilder b = new StringBuilder("\r[").append("#".repeat(filled)).append("-".repeat(BAR_WIDTH - filled))
                .append("] ");
        if (p.chunks() > 0) {
            b.append(p.chunksDone()).append('/').append(p.chunks()).append(" chunks  ");
        }
        b.append(String.format(Locale.ROOT, "%.1f s of audio  %s elapsed", p.audioSeconds(), clock(p.elapsed())));
        if (!p.done()) {
            b.append("  ETA ").append(p.eta().map(ProgressDisplay::clock).orElse("--:--"));
        }
        // a shorter line than the last one blanks the rest of it
        if (b.length() < lastWidth) {
            b.append(" ".repeat(lastWidth - b.length()));
        }
        lastWidth = b.length();
        err.print(b);
        if (p.done()) {
            err.println();
        }
        err.flush();
    }

    private void line(SynthesisProgress p) {
        if (p.done() || p.chunks() < 2 || p.chunksDone() <= lastChunksDone) {
            return;
        }
        lastChunksDone = p.chunksDone();
        err.printf(Locale.ROOT, "tts: %d/%d chunks, %.1f s of audio, %s elapsed%s%n", p.chunksDone(), p.chunks(),
                p.audioSeconds(), clock(p.elapsed()),
                p.chunksDone() < p.chunks() ? p.eta().map(d -> ", about " + clock(d) + " left").orElse("") : "");
        err.flush();
    }

    /** {@code m:ss} (or {@code h:mm:ss}). */
    static String clock(Duration d) {
        long s = Math.max(0, (d.toMillis() + 500) / 1000);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
