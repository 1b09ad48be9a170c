package dev.localai.tts.core.testing;

/** Synthetic reference clips for tests that clone a voice (shared with other modules through the test-jar). */
public final class TestClips {
    private TestClips() {}

    /**
     * Voiced "syllables" at 24 kHz: a 140 Hz harmonic series under a 4 Hz envelope, loud enough to pass the
     * reference-clip checks (length, silence).
     */
    public static float[] speechLike(double seconds) {
        int sr = 24_000;
        float[] x = new float[(int) (seconds * sr)];
        for (int i = 0; i < x.length; i++) {
            double t = i / (double) sr;
            double env = Math.max(0, Math.sin(2 * Math.PI * 4 * t));
            double v = 0;
            for (int h = 1; h <= 8; h++) {
                v += Math.sin(2 * Math.PI * 140 * h * t) / h;
            }
            x[i] = (float) (0.25 * env * v);
        }
        return x;
    }
}
