package dev.localai.tts.core.audio;

/**
 * Integrated loudness per ITU-R BS.1770 (K-weighting, 400 ms blocks with 75 % overlap, absolute gate at
 * -70 LUFS, relative gate 10 LU below the gated mean), computed the way pyloudnorm's {@code Meter} does for a
 * mono signal, and the gain normalisation upstream applies to reference clips ({@code norm_loudness}, -27 LUFS).
 *
 * <p>pyloudnorm quirks reproduced: the two K-weighting biquads are designed with the audio-EQ-cookbook formulas at
 * the signal's own sample rate (high shelf +4 dB at 1500 Hz, Q 1/sqrt 2; high pass 38 Hz, Q 0.5), each stage is
 * run in double and its output stored back as float32 (it filters in place into the float32 input array), and
 * block bounds are {@code int(0.4 * (j * 0.25) * rate)} ... {@code int(0.4 * (j * 0.25 + 1) * rate)} with
 * {@code round((T - 0.4) / 0.1) + 1} blocks.
 */
public final class Loudness {

    /** Target loudness of reference clips upstream. */
    public static final double REFERENCE_TARGET_LUFS = -27.0;

    private static final double BLOCK_SECONDS = 0.4;
    private static final double ABSOLUTE_GATE = -70.0;

    private Loudness() {
    }

    /**
     * Integrated loudness in LUFS; {@code Double.NEGATIVE_INFINITY} (or NaN) when no block passes the gates,
     * i.e. the clip is silent.
     *
     * @throws IllegalArgumentException when the clip is shorter than one 400 ms block (pyloudnorm raises too)
     */
    public static double integratedLoudness(float[] x, int sampleRate) {
        int n = x.length;
        if (n < BLOCK_SECONDS * sampleRate) {
            throw new IllegalArgumentException("audio must be at least one 400 ms block long for loudness");
        }
        float[] y = x.clone();
        double[] shelf = highShelf(4.0, 1.0 / Math.sqrt(2.0), 1500.0, sampleRate);
        double[] pass = highPass(0.5, 38.0, sampleRate);
        biquadInPlace(y, shelf);
        biquadInPlace(y, pass);

        final double tg = BLOCK_SECONDS;
        final double step = 1.0 - 0.75;
        double seconds = n / (double) sampleRate;
        int blocks = (int) Math.rint((seconds - tg) / (tg * step)) + 1;
        double[] z = new double[blocks];
        double norm = 1.0 / (tg * sampleRate);
        for (int j = 0; j < blocks; j++) {
            int lo = (int) (tg * (j * step) * sampleRate);
            int hi = (int) (tg * (j * step + 1) * sampleRate);
            hi = Math.min(hi, n);
            double s = 0.0;
            for (int i = lo; i < hi; i++) {
                double v = y[i];
                s += v * v;
            }
            z[j] = norm * s;
        }
        double[] l = new double[blocks];
        double sumAbs = 0.0;
        int countAbs = 0;
        for (int j = 0; j < blocks; j++) {
            l[j] = -0.691 + 10.0 * Math.log10(z[j]);
            if (l[j] >= ABSOLUTE_GATE) {
                sumAbs += z[j];
                countAbs++;
            }
        }
        if (countAbs == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        double relativeGate = -0.691 + 10.0 * Math.log10(sumAbs / countAbs) - 10.0;
        double sum = 0.0;
        int count = 0;
        for (int j = 0; j < blocks; j++) {
            if (l[j] > relativeGate && l[j] >= ABSOLUTE_GATE) {
                sum += z[j];
                count++;
            }
        }
        if (count == 0) {
            return Double.NEGATIVE_INFINITY;
        }
        return -0.691 + 10.0 * Math.log10(sum / count);
    }

    /** Linear gain that takes a clip of loudness {@code lufs} to {@code targetLufs}. */
    public static double gainFor(double lufs, double targetLufs) {
        return Math.pow(10.0, (targetLufs - lufs) / 20.0);
    }

    /**
     * Upstream's {@code norm_loudness}: scales the clip to {@code targetLufs} when the gain is finite and positive
     * (no clipping afterwards); returns an unchanged copy when the loudness is undefined (silent or too short).
     */
    public static float[] normalize(float[] x, int sampleRate, double targetLufs) {
        double lufs;
        try {
            lufs = integratedLoudness(x, sampleRate);
        } catch (IllegalArgumentException e) {
            return x.clone();
        }
        double gain = gainFor(lufs, targetLufs);
        if (!Double.isFinite(gain) || gain <= 0.0) {
            return x.clone();
        }
        float g = (float) gain;
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * g;
        }
        return out;
    }

    /** Coefficients {b0, b1, b2, a1, a2} normalised by a0. */
    static double[] highShelf(double gainDb, double q, double fc, int rate) {
        double a = Math.pow(10.0, gainDb / 40.0);
        double w0 = 2.0 * Math.PI * (fc / rate);
        double alpha = Math.sin(w0) / (2.0 * q);
        double cos = Math.cos(w0);
        double sqA = Math.sqrt(a);
        double b0 = a * ((a + 1) + (a - 1) * cos + 2 * sqA * alpha);
        double b1 = -2 * a * ((a - 1) + (a + 1) * cos);
        double b2 = a * ((a + 1) + (a - 1) * cos - 2 * sqA * alpha);
        double a0 = (a + 1) - (a - 1) * cos + 2 * sqA * alpha;
        double a1 = 2 * ((a - 1) - (a + 1) * cos);
        double a2 = (a + 1) - (a - 1) * cos - 2 * sqA * alpha;
        return new double[] {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
    }

    static double[] highPass(double q, double fc, int rate) {
        double w0 = 2.0 * Math.PI * (fc / rate);
        double alpha = Math.sin(w0) / (2.0 * q);
        double cos = Math.cos(w0);
        double b0 = (1 + cos) / 2;
        double b1 = -(1 + cos);
        double b2 = (1 + cos) / 2;
        double a0 = 1 + alpha;
        double a1 = -2 * cos;
        double a2 = 1 - alpha;
        return new double[] {b0 / a0, b1 / a0, b2 / a0, a1 / a0, a2 / a0};
    }

    /** Direct form II transposed, zero initial state, double state, result stored as float32. */
    static void biquadInPlace(float[] y, double[] c) {
        double b0 = c[0], b1 = c[1], b2 = c[2], a1 = c[3], a2 = c[4];
        double s1 = 0.0, s2 = 0.0;
        for (int i = 0; i < y.length; i++) {
            double xi = y[i];
            double out = b0 * xi + s1;
            s1 = b1 * xi - a1 * out + s2;
            s2 = b2 * xi - a2 * out;
            y[i] = (float) out;
        }
    }
}
