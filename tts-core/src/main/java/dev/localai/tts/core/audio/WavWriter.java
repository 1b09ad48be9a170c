package dev.localai.tts.core.audio;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * Writes mono 16-bit PCM or 32-bit float RIFF/WAVE files (e.g. the 24 kHz output of the CLI). Writes to a
 * temporary file next to the target and moves it into place, so a reader never sees a half-written file.
 */
public final class WavWriter {

    private WavWriter() {
    }

    /** 16-bit PCM: samples clamped to [-1, 1], scaled by 32767 and rounded. */
    public static byte[] pcm16(float[] samples, int sampleRate) {
        ByteBuffer b = header(samples.length * 2, sampleRate, 1, 16);
        for (float s : samples) {
            float c = Float.isNaN(s) ? 0f : Math.max(-1f, Math.min(1f, s));
            b.putShort((short) Math.round(c * 32767f));
        }
        return b.array();
    }

    /** 32-bit IEEE float (WAVE_FORMAT_IEEE_FLOAT), samples stored as they are. */
    public static byte[] float32(float[] samples, int sampleRate) {
        ByteBuffer b = header(samples.length * 4, sampleRate, 3, 32);
        for (float s : samples) {
            b.putFloat(s);
        }
        return b.array();
    }

    public static void writePcm16(Path file, MonoAudio audio) throws IOException {
        writeAtomically(file, pcm16(audio.samples(), audio.sampleRate()));
    }

    public static void writePcm16(Path file, float[] samples, int sampleRate) throws IOException {
        writeAtomically(file, pcm16(samples, sampleRate));
    }

    public static void writeFloat32(Path file, float[] samples, int sampleRate) throws IOException {
        writeAtomically(file, float32(samples, sampleRate));
    }

    private static ByteBuffer header(int dataBytes, int sampleRate, int format, int bits) {
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sample rate must be positive");
        }
        int blockAlign = bits / 8;
        ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'R', 'I', 'F', 'F'}).putInt(36 + dataBytes).put(new byte[] {'W', 'A', 'V', 'E'});
        b.put(new byte[] {'f', 'm', 't', ' '}).putInt(16).putShort((short) format).putShort((short) 1)
                .putInt(sampleRate).putInt(sampleRate * blockAlign).putShort((short) blockAlign).putShort((short) bits);
        b.put(new byte[] {'d', 'a', 't', 'a'}).putInt(dataBytes);
        return b;
    }

    static void writeAtomically(Path file, byte[] bytes) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + abs.getFileName(), ".tmp");
        try {
            try (OutputStream out = Files.newOutputStream(tmp)) {
                out.write(bytes);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (java.nio.file.AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
