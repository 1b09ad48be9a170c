package dev.localai.tts.core.audio;

import java.util.Arrays;

/**
 * Mono float audio in [-1, 1] at a given sample rate. Immutable: the array is copied in and out.
 */
public final class MonoAudio {

    private final float[] samples;
    private final int sampleRate;

    public MonoAudio(float[] samples, int sampleRate) {
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sample rate must be positive: " + sampleRate);
        }
        this.samples = samples.clone();
        this.sampleRate = sampleRate;
    }

    /** Wraps without copying; only for arrays nobody else holds. */
    static MonoAudio owning(float[] samples, int sampleRate) {
        return new MonoAudio(sampleRate, samples);
    }

    private MonoAudio(int sampleRate, float[] owned) {
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sample rate must be positive: " + sampleRate);
        }
        this.samples = owned;
        this.sampleRate = sampleRate;
    }

    /** A copy of the samples. */
    public float[] samples() {
        return samples.clone();
    }

    public int length() {
        return samples.length;
    }

    public int sampleRate() {
        return sampleRate;
    }

    public double seconds() {
        return samples.length / (double) sampleRate;
    }

    /** Same audio at another sample rate (high-quality resampling; a no-op copy when the rate is equal). */
    public MonoAudio resampled(int targetRate) {
        return owning(Resampler.resample(samples, sampleRate, targetRate), targetRate);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof MonoAudio m && m.sampleRate == sampleRate && Arrays.equals(m.samples, samples);
    }

    @Override
    public int hashCode() {
        return 31 * sampleRate + Arrays.hashCode(samples);
    }

    @Override
    public String toString() {
        return "MonoAudio[" + samples.length + " samples @ " + sampleRate + " Hz]";
    }
}
