package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.audio.AudioFormat;
import java.io.IOException;
import java.io.OutputStream;

/** Raw signed 16-bit little-endian mono samples, no header (OpenAI's {@code pcm}). */
final class PcmEncoder implements AudioEncoder {
    private final OutputStream out;

    PcmEncoder(OutputStream out) {
        this.out = out;
    }

    @Override
    public AudioFormat format() {
        return AudioFormat.PCM;
    }

    @Override
    public void write(float[] samples, int offset, int length) throws IOException {
        out.write(Pcm16.toBytes(samples, offset, length));
    }

    @Override
    public void finish() throws IOException {
        out.flush();
    }

    @Override
    public void close() {
    }
}
