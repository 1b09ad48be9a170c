package dev.localai.tts.core.audio;

import java.nio.file.Path;

/**
 * Reference-clip front end, the audio half of upstream's {@code prepare_conditionals}: decode, down-mix to mono,
 * resample to 24 kHz, require more than 5 s, normalise to -27 LUFS, resample the whole normalised clip to 16 kHz.
 *
 * <p>Differences from upstream, on purpose: a silent clip (loudness undefined) is rejected with
 * {@link SilentClipException} instead of being passed on un-normalised; a file that cannot be decoded raises
 * {@link UndecodableAudioException}.
 */
public final class ReferenceAudio {

    /** S3Gen / output sample rate. */
    public static final int SR_24K = 24_000;
    /** S3 tokenizer / VoiceEncoder sample rate. */
    public static final int SR_16K = 16_000;
    /** A reference must be strictly longer than this (upstream asserts {@code len / sr > 5.0}). */
    public static final double MIN_SECONDS = 5.0;

    private ReferenceAudio() {
    }

    public static PreparedReference prepare(Path clip) {
        return prepare(AudioDecoder.decode(clip), true);
    }

    public static PreparedReference prepare(MonoAudio decoded, boolean normLoudness) {
        float[] wav24 = Resampler.resample(decoded.samples(), decoded.sampleRate(), SR_24K);
        double seconds = wav24.length / (double) SR_24K;
        if (!(seconds > MIN_SECONDS)) {
            throw new ClipTooShortException(seconds, MIN_SECONDS);
        }
        double lufs = Loudness.integratedLoudness(wav24, SR_24K);
        if (!Double.isFinite(lufs)) {
            throw new SilentClipException("reference clip is silent (no 400 ms block above -70 LUFS)");
        }
        if (normLoudness) {
            double gain = Loudness.gainFor(lufs, Loudness.REFERENCE_TARGET_LUFS);
            if (Double.isFinite(gain) && gain > 0.0) {
                float g = (float) gain;
                for (int i = 0; i < wav24.length; i++) {
                    wav24[i] *= g;
                }
            }
        }
        float[] wav16 = Resampler.resample(wav24, SR_24K, SR_16K);
        return new PreparedReference(MonoAudio.owning(wav24, SR_24K), MonoAudio.owning(wav16, SR_16K), lufs);
    }
}
