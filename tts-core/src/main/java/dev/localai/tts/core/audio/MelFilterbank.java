package dev.localai.tts.core.audio;

/**
 * Mel filterbanks as librosa's {@code filters.mel} builds them by default: Slaney's auditory-toolbox mel scale
 * (linear below 1 kHz, logarithmic above), triangular filters between consecutive mel points on the FFT bin
 * frequencies, and Slaney area normalisation ({@code 2 / (f[i+2] - f[i])}). Values are rounded to float32 as
 * librosa's default dtype.
 */
public final class MelFilterbank {

    private static final double F_SP = 200.0 / 3.0;
    private static final double MIN_LOG_HZ = 1000.0;
    private static final double MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
    private static final double LOG_STEP = Math.log(6.4) / 27.0;

    private MelFilterbank() {
    }

    /** Slaney mel of a frequency in Hz. */
    public static double hzToMel(double hz) {
        if (hz >= MIN_LOG_HZ) {
            return MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
        }
        return hz / F_SP;
    }

    /** Inverse of {@link #hzToMel(double)}. */
    public static double melToHz(double mel) {
        if (mel >= MIN_LOG_MEL) {
            return MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
        }
        return F_SP * mel;
    }

    /**
     * The (nMels, 1 + nFft/2) filterbank as {@code librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)} computes it:
     * FFT bin frequencies as {@code np.fft.rfftfreq}, each triangle rounded to float32 before the float64 area
     * normalisation (librosa fills a float32 array, then scales it in place). Matches the filters stored in the
     * checkpoint within 1e-7.
     */
    public static float[][] slaney(int sampleRate, int nFft, int nMels, double fMin, double fMax) {
        int nFreq = 1 + nFft / 2;
        double[] fft = new double[nFreq];
        double binWidth = 1.0 / (nFft * (1.0 / sampleRate));
        for (int k = 0; k < nFreq; k++) {
            fft[k] = k * binWidth;
        }
        double mMin = hzToMel(fMin);
        double mMax = hzToMel(fMax);
        int nPts = nMels + 2;
        double[] melF = new double[nPts];
        double stepM = (mMax - mMin) / (nPts - 1);
        for (int i = 0; i < nPts; i++) {
            melF[i] = melToHz(i == nPts - 1 ? mMax : i * stepM + mMin);
        }
        float[][] w = new float[nMels][nFreq];
        for (int i = 0; i < nMels; i++) {
            double dLo = melF[i + 1] - melF[i];
            double dHi = melF[i + 2] - melF[i + 1];
            double enorm = 2.0 / (melF[i + 2] - melF[i]);
            for (int k = 0; k < nFreq; k++) {
                double lower = -(melF[i] - fft[k]) / dLo;
                double upper = (melF[i + 2] - fft[k]) / dHi;
                float v = (float) Math.max(0.0, Math.min(lower, upper));
                w[i][k] = (float) (v * enorm);
            }
        }
        return w;
    }

    /** {@link #slaney} as one flat row-major array of {@code nMels * (1 + nFft/2)}. */
    public static float[] slaneyFlat(int sampleRate, int nFft, int nMels, double fMin, double fMax) {
        float[][] w = slaney(sampleRate, nFft, nMels, fMin, fMax);
        int nFreq = 1 + nFft / 2;
        float[] flat = new float[nMels * nFreq];
        for (int i = 0; i < nMels; i++) {
            System.arraycopy(w[i], 0, flat, i * nFreq, nFreq);
        }
        return flat;
    }
}
