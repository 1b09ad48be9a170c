package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.audio.AudioFormat;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;

/**
 * RIFF WAVE, 16-bit PCM mono. Streamed: the header goes out first with {@code 0xFFFFFFFF} in the RIFF and data size
 * fields (as OpenAI streams WAV), then samples as they come. Whole file: samples are buffered and the header carries
 * the real sizes.
 */
final class WavEncoder implements AudioEncoder {
    /** Size-field sentinel of streamed WAV. */
    static final int UNKNOWN_SIZE = 0xFFFFFFFF;

    private final OutputStream out;
    private final int sampleRate;
    private final boolean streaming;
    private final ByteArrayOutputStream buffer;
    private boolean headerWritten;

    WavEncoder(OutputStream out, int sampleRate, boolean streaming) {
        this.out = out;
        this.sampleRate = sampleRate;
        this.streaming = streaming;
        this.buffer = streaming ? null : new ByteArrayOutputStream();
    }

    @Override
    public AudioFormat format() {
        return AudioFormat.WAV;
    }

    @Override
    public void write(float[] samples, int offset, int length) throws IOException {
        byte[] pcm = Pcm16.toBytes(samples, offset, length);
        if (streaming) {
            if (!headerWritten) {
                out.write(header(sampleRate, -1));
                headerWritten = true;
            }
            out.write(pcm);
        } else {
            buffer.write(pcm);
        }
    }

    @Override
    public void finish() throws IOException {
        if (streaming) {
            if (!headerWritten) {
                out.write(header(sampleRate, -1));
                headerWritten = true;
            }
        } else {
            out.write(header(sampleRate, buffer.size()));
            buffer.writeTo(out);
        }
        out.flush();
    }

    @Override
    public void close() {
    }

    /** A 44-byte canonical header; {@code dataBytes < 0} writes the streaming sentinel in both size fields. */
    static byte[] header(int sampleRate, long dataBytes) {
        byte[] h = new byte[44];
        int riffSize = dataBytes < 0 ? UNKNOWN_SIZE : (int) Math.min(0xFFFFFFFFL, 36 + dataBytes);
        int dataSize = dataBytes < 0 ? UNKNOWN_SIZE : (int) Math.min(0xFFFFFFFFL, dataBytes);
        putAscii(h, 0, "RIFF");
        putInt(h, 4, riffSize);
        putAscii(h, 8, "WAVE");
        putAscii(h, 12, "fmt ");
        putInt(h, 16, 16);
        putShort(h, 20, 1);              // PCM
        putShort(h, 22, 1);              // mono
        putInt(h, 24, sampleRate);
        putInt(h, 28, sampleRate * 2);   // byte rate
        putShort(h, 32, 2);              // block align
        putShort(h, 34, 16);             // bits per sample
        putAscii(h, 36, "data");
        putInt(h, 40, dataSize);
        return h;
    }

    private static void putAscii(byte[] b, int at, String s) {
        for (int i = 0; i < 4; i++) {
            b[at + i] = (byte) s.charAt(i);
        }
    }

    private static void putInt(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
        b[at + 2] = (byte) (v >> 16);
        b[at + 3] = (byte) (v >> 24);
    }

    private static void putShort(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >> 8);
    }
}
