package dev.localai.tts.core.audio;

/**
 * A reference clip made ready for the encoders, as upstream's {@code prepare_conditionals} does before any model
 * runs: mono, 24 kHz, loudness-normalised ({@code wav24k}, whole clip) and the same signal resampled to 16 kHz
 * ({@code wav16k}, whole clip). Callers cut the first 10 s (S3Gen) / 15 s (T3 prompt tokens) themselves.
 *
 * @param wav24k       the normalised clip at 24 kHz
 * @param wav16k       the normalised clip at 16 kHz
 * @param sourceLufs   integrated loudness of the clip before normalisation (at 24 kHz)
 */
public record PreparedReference(MonoAudio wav24k, MonoAudio wav16k, double sourceLufs) {
}
