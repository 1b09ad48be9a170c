package dev.localai.tts.core.hub;

import java.io.PrintStream;
import java.util.Locale;

/** A one-line console progress bar redrawn in place with carriage returns, at most ten times a second. */
final class ProgressBar {
    private static final int WIDTH = 30;
    private final PrintStream out;
    private final String label;
    private final long total;
    private final long startNanos = System.nanoTime();
    private final long startBytes;
    private long lastDraw;
    private long done;

    ProgressBar(PrintStream out, String label, long total, long alreadyDone) {
        this.out = out;
        this.label = label;
        this.total = total;
        this.startBytes = alreadyDone;
        this.done = alreadyDone;
    }

    void advance(long n) {
        done += n;
        long now = System.nanoTime();
        if (now - lastDraw > 100_000_000L) {
            lastDraw = now;
            draw(false);
        }
    }

    void reset(long to) {
        done = to;
    }

    void finish() {
        draw(true);
    }

    private void draw(boolean end) {
        if (out == null) {
            return;
        }
        double secs = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
        double rate = (done - startBytes) / secs;
        String bar;
        if (total > 0) {
            int filled = (int) Math.min(WIDTH, WIDTH * done / total);
            bar = String.format(Locale.ROOT, "%3d%% [%s%s] %s / %s", (int) (100 * done / total),
                    "=".repeat(filled), " ".repeat(WIDTH - filled), human(done), human(total));
        } else {
            bar = human(done);
        }
        out.print("\r" + label + " " + bar + "  " + human((long) rate) + "/s   " + (end ? "\n" : ""));
        out.flush();
    }

    static String human(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
