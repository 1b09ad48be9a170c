package dev.localai.tts.core.voice.ref;

/**
 * Triangular mel filterbank on the Slaney mel scale with Slaney area normalisation: the filterbank
 * {@code librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)} builds by default (htk=False, norm="slaney",
 * float32). Row-major {@code [nMels][1 + nFft/2]}.
 *
 * <p>Slaney scale: linear below 1 kHz (200/3 Hz per mel), logarithmic above (27 mels per factor 6.4).
 * {@code nMels + 2} edge frequencies are spaced evenly in mel between fmin and fmax; filter i rises from edge i to
 * edge i+1 and falls to edge i+2, and is scaled by {@code 2 / (edge[i+2] - edge[i])}.
 */
public final class SlaneyMelFilters {
    private static final double F_SP = 200.0 / 3.0;
    private static final double MIN_LOG_HZ = 1000.0;
    private static final double MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
    private static final double LOG_STEP = Math.log(6.4) / 27.0;

    private SlaneyMelFilters() {
    }

    public static double hzToMel(double hz) {
        if (hz >= MIN_LOG_HZ) {
            return MIN_LOG_MEL + Math.log(hz / MIN_LOG_HZ) / LOG_STEP;
        }
        return hz / F_SP;
    }

    public static double melToHz(double mel) {
        if (mel >= MIN_LOG_MEL) {
            return MIN_LOG_HZ * Math.exp(LOG_STEP * (mel - MIN_LOG_MEL));
        }
        return F_SP * mel;
    }

    /** The filterbank as a flat row-major float array of {@code nMels * (nFft/2 + 1)}. */
    public static float[] create(int sampleRate, int nFft, int nMels, double fmin, double fmax) {
        int nBins = 1 + nFft / 2;
        double[] fftFreqs = new double[nBins];
        double binWidth = 1.0 / (nFft * (1.0 / sampleRate));
        for (int k = 0; k < nBins; k++) {
            fftFreqs[k] = k * binWidth;
        }
        int nEdges = nMels + 2;
        double minMel = hzToMel(fmin);
        double maxMel = hzToMel(fmax);
        double step = (maxMel - minMel) / (nEdges - 1);
        double[] edges = new double[nEdges];
        for (int i = 0; i < nEdges; i++) {
            double mel = i == nEdges - 1 ? maxMel : i * step + minMel;
            edges[i] = melToHz(mel);
        }
        float[] w = new float[nMels * nBins];
        for (int i = 0; i < nMels; i++) {
            double lowDiff = edges[i + 1] - edges[i];
            double highDiff = edges[i + 2] - edges[i + 1];
            double enorm = 2.0 / (edges[i + 2] - edges[i]);
            for (int k = 0; k < nBins; k++) {
                double lower = -(edges[i] - fftFreqs[k]) / lowDiff;
                double upper = (edges[i + 2] - fftFreqs[k]) / highDiff;
                float v = (float) Math.max(0.0, Math.min(lower, upper));
                w[i * nBins + k] = (float) (v * enorm);
            }
        }
        return w;
    }
}
