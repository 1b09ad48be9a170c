package dev.localai.tts.core.engine;

/**
 * Joining the audio of consecutive text chunks: trimming leading/trailing silence and hallucinated tails, and
 * equal-power crossfades so seams are inaudible.
 */
public final class Seams {
    private Seams() {}

    /**
     * The index one past the last sample of {@code x} that belongs to speech: trailing samples whose short-term
     * RMS stays below {@code thresholdDb} (relative to the clip's peak RMS) are cut, keeping {@code keepMs} of
     * tail so words do not end abruptly.
     */
    public static int speechEnd(float[] x, int sampleRate, double thresholdDb, double keepMs) {
        return speechEnd(x, sampleRate, thresholdDb, keepMs, 0);
    }

    /**
     * As {@link #speechEnd(float[], int, double, double)}, the threshold relative to the larger of {@code x}'s own
     * peak RMS and {@code referencePeak} (the peak of the audio before {@code x}, when {@code x} is the tail of a
     * longer clip); with a reference, an all-quiet {@code x} gives 0.
     */
    public static int speechEnd(float[] x, int sampleRate, double thresholdDb, double keepMs, double referencePeak) {
        int win = Math.max(1, sampleRate / 100); // 10 ms windows
        int n = x.length / win;
        if (n == 0) {
            return referencePeak > 0 ? 0 : x.length;
        }
        double[] rms = windowRms(x, win, n);
        double peak = referencePeak;
        for (double r : rms) {
            peak = Math.max(peak, r);
        }
        if (peak == 0) {
            return 0;
        }
        double thr = peak * Math.pow(10, thresholdDb / 20);
        int last = -1;
        for (int i = n - 1; i >= 0; i--) {
            if (rms[i] >= thr) {
                last = i;
                break;
            }
        }
        if (last < 0) {
            return 0;
        }
        long end = (long) (last + 1) * win + Math.round(keepMs * sampleRate / 1000);
        return (int) Math.min(x.length, end);
    }

    /** The index of the first sample of speech, keeping {@code keepMs} of lead-in (see {@link #speechEnd}). */
    public static int speechStart(float[] x, int sampleRate, double thresholdDb, double keepMs) {
        int win = Math.max(1, sampleRate / 100);
        int n = x.length / win;
        if (n == 0) {
            return 0;
        }
        double[] rms = windowRms(x, win, n);
        double peak = 0;
        for (double r : rms) {
            peak = Math.max(peak, r);
        }
        if (peak == 0) {
            return x.length;
        }
        double thr = peak * Math.pow(10, thresholdDb / 20);
        for (int i = 0; i < n; i++) {
            if (rms[i] >= thr) {
                long start = (long) i * win - Math.round(keepMs * sampleRate / 1000);
                return (int) Math.max(0, start);
            }
        }
        return x.length;
    }

    /** The largest 10 ms-window RMS of {@code x} (0 for fewer than 10 ms). */
    public static double peakRms(float[] x, int sampleRate) {
        int win = Math.max(1, sampleRate / 100);
        double peak = 0;
        for (double r : windowRms(x, win, x.length / win)) {
            peak = Math.max(peak, r);
        }
        return peak;
    }

    private static double[] windowRms(float[] x, int win, int n) {
        double[] rms = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = i * win; j < (i + 1) * win; j++) {
                s += (double) x[j] * x[j];
            }
            rms[i] = Math.sqrt(s / win);
        }
        return rms;
    }

    /**
     * Concatenates {@code a} and {@code b}, overlapping the last {@code overlap} samples of {@code a} with the first
     * of {@code b} under an equal-power (sine/cosine) crossfade: gains g_out^2 + g_in^2 = 1, so uncorrelated
     * signals keep their loudness through the seam.
     */
    public static float[] crossfade(float[] a, float[] b, int overlap) {
        int o = Math.min(overlap, Math.min(a.length, b.length));
        float[] out = new float[a.length + b.length - o];
        System.arraycopy(a, 0, out, 0, a.length - o);
        for (int i = 0; i < o; i++) {
            double t = (i + 0.5) / o;
            double gIn = Math.sin(t * Math.PI / 2);
            double gOut = Math.cos(t * Math.PI / 2);
            out[a.length - o + i] = (float) (a[a.length - o + i] * gOut + b[i] * gIn);
        }
        System.arraycopy(b, o, out, a.length, b.length - o);
        return out;
    }

    /** Equal-power fade-in over the first {@code n} samples and fade-out over the last {@code n}, in place. */
    public static void fadeEdges(float[] x, int n) {
        int m = Math.min(n, x.length / 2);
        for (int i = 0; i < m; i++) {
            double g = Math.sin((i + 0.5) / m * Math.PI / 2);
            x[i] *= (float) g;
            x[x.length - 1 - i] *= (float) g;
        }
    }
}
