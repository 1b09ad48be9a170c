package dev.localai.tts.core.audio;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * High-quality band-limited resampler: a Kaiser-windowed sinc low-pass evaluated at exact rational positions
 * (polyphase), comparable in spirit to soxr "HQ" which upstream uses through librosa.
 *
 * <p>Design: pass band flat to 91 % of the lower Nyquist frequency, stop band from the lower Nyquist frequency on,
 * about 120 dB stop-band attenuation (Kaiser beta 12.26). Output sample {@code k} is the band-limited input
 * evaluated at input time {@code k * from / to}; samples outside the clip count as zero. The output length is
 * {@code ceil(n * to / from)}, as librosa returns. Arithmetic is in double; deterministic.
 */
public final class Resampler {

    /** Pass-band edge as a fraction of the lower Nyquist frequency. */
    static final double PASSBAND = 0.91;
    /** Stop-band attenuation in dB the Kaiser design aims for. */
    static final double ATTENUATION_DB = 120.0;
    /** Largest number of polyphase phases that get an exact precomputed table. */
    private static final int MAX_TABLE_PHASES = 4096;

    private static final Map<Long, Design> DESIGNS = new ConcurrentHashMap<>();

    private Resampler() {
    }

    /** Resamples {@code x} from {@code from} Hz to {@code to} Hz. Returns a copy when the rates are equal. */
    public static float[] resample(float[] x, int from, int to) {
        if (from <= 0 || to <= 0) {
            throw new IllegalArgumentException("sample rates must be positive: " + from + " -> " + to);
        }
        if (from == to) {
            return x.clone();
        }
        Design d = DESIGNS.computeIfAbsent(((long) from << 32) | to, k -> new Design(from, to));
        return d.apply(x);
    }

    /** Output length for an input of {@code n} samples: {@code ceil(n * to / from)}. */
    public static int outputLength(int n, int from, int to) {
        return (int) ((n * (long) to + from - 1) / from);
    }

    private static long gcd(long a, long b) {
        while (b != 0) {
            long t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    /** Zeroth-order modified Bessel function of the first kind (power series). */
    static double besselI0(double x) {
        double sum = 1.0;
        double term = 1.0;
        double q = x * x / 4.0;
        for (int k = 1; k < 500; k++) {
            term *= q / ((double) k * k);
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
        }
        return sum;
    }

    static final class Design {
        final int up;     // L
        final int down;   // M
        final double fc;  // cutoff in cycles per input sample
        final double half; // half length of the kernel, in input samples
        final int k;      // taps either side
        final double beta;
        final double i0Beta;
        final double[][] table; // [phase][tap] or null for the direct path

        Design(int from, int to) {
            long g = gcd(from, to);
            this.up = (int) (to / g);
            this.down = (int) (from / g);
            double low = Math.min(from, to);
            // transition from PASSBAND*lowNyq to lowNyq; cutoff in its middle
            double cutoffHz = 0.5 * low * (1.0 + PASSBAND) / 2.0;
            double transition = 0.5 * (1.0 - PASSBAND); // in cycles per low-rate sample
            double a = ATTENUATION_DB;
            this.beta = 0.1102 * (a - 8.7);
            this.i0Beta = besselI0(beta);
            // Kaiser length estimate (taps at the low rate), made odd-symmetric: half length in low-rate samples
            double taps = (a - 7.95) / (2.285 * 2 * Math.PI * transition) + 1;
            double halfLow = Math.ceil(taps / 2.0);
            this.half = halfLow * from / low;
            this.fc = cutoffHz / from;
            this.k = (int) Math.ceil(half);
            if (up <= MAX_TABLE_PHASES) {
                table = new double[up][2 * k + 2];
                for (int p = 0; p < up; p++) {
                    double frac = p / (double) up;
                    for (int m = 0; m < 2 * k + 2; m++) {
                        table[p][m] = kernel(frac - (m - k));
                    }
                }
            } else {
                table = null;
            }
        }

        /** Kernel value at distance tau (input samples) between output time and input sample. */
        double kernel(double tau) {
            double r = tau / half;
            if (r <= -1.0 || r >= 1.0) {
                return 0.0;
            }
            double w = besselI0(beta * Math.sqrt(1.0 - r * r)) / i0Beta;
            double x = 2.0 * fc * tau;
            double sinc = x == 0.0 ? 1.0 : Math.sin(Math.PI * x) / (Math.PI * x);
            return 2.0 * fc * sinc * w;
        }

        float[] apply(float[] x) {
            int n = x.length;
            int outLen = (int) ((n * (long) up + down - 1) / down);
            float[] y = new float[outLen];
            int taps = 2 * k + 2;
            double[] direct = table == null ? new double[taps] : null;
            for (int o = 0; o < outLen; o++) {
                long pos = (long) o * down;
                int i0 = (int) (pos / up);
                int phase = (int) (pos % up);
                double[] h;
                if (table != null) {
                    h = table[phase];
                } else {
                    double frac = phase / (double) up;
                    for (int m = 0; m < taps; m++) {
                        direct[m] = kernel(frac - (m - k));
                    }
                    h = direct;
                }
                int start = i0 - k;
                int mLo = Math.max(0, -start);
                int mHi = Math.min(taps, n - start);
                double acc = 0.0;
                for (int m = mLo; m < mHi; m++) {
                    acc += h[m] * x[start + m];
                }
                y[o] = (float) acc;
            }
            return y;
        }
    }
}
