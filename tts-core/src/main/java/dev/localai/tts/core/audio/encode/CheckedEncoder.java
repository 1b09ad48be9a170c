package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.engine.api.AudioFormat;
import java.io.IOException;

/**
 * Wraps every encoder {@link AudioEncoders} opens: a block holding NaN or Inf is refused with a
 * {@link NonFiniteAudioException} before any codec sees it (LAME aborts the whole process on one, the AAC encoder
 * throws), and finite samples outside [-1, 1] are clamped, so no codec ever receives a sample it cannot take.
 */
final class CheckedEncoder implements AudioEncoder {
    private final AudioEncoder inner;
    private float[] scratch = new float[0];

    CheckedEncoder(AudioEncoder inner) {
        this.inner = inner;
    }

    @Override
    public AudioFormat format() {
        return inner.format();
    }

    @Override
    public void write(float[] samples, int offset, int length) throws IOException {
        boolean inRange = true;
        for (int i = offset; i < offset + length; i++) {
            float s = samples[i];
            if (!Float.isFinite(s)) {
                throw new NonFiniteAudioException(s, i - offset);
            }
            inRange &= s >= -1f && s <= 1f;
        }
        if (inRange) {
            inner.write(samples, offset, length);
            return;
        }
        if (scratch.length < length) {
            scratch = new float[length];
        }
        for (int i = 0; i < length; i++) {
            scratch[i] = Math.max(-1f, Math.min(1f, samples[offset + i]));
        }
        inner.write(scratch, 0, length);
    }

    @Override
    public void finish() throws IOException {
        inner.finish();
    }

    @Override
    public void close() {
        inner.close();
    }
}
