package dev.localai.tts.core.audio.encode;

/** Float to signed 16-bit little-endian conversion (clipped, rounded). */
public final class Pcm16 {
    private Pcm16() {
    }

    /** Converts one sample. */
    public static short toShort(float f) {
        float c = f > 1f ? 1f : (f < -1f ? -1f : f);
        if (Float.isNaN(c)) {
            c = 0f;
        }
        return (short) Math.round(c * 32767f);
    }

    /** Converts {@code length} samples to little-endian bytes. */
    public static byte[] toBytes(float[] samples, int offset, int length) {
        byte[] out = new byte[length * 2];
        for (int i = 0; i < length; i++) {
            short s = toShort(samples[offset + i]);
            out[2 * i] = (byte) s;
            out[2 * i + 1] = (byte) (s >> 8);
        }
        return out;
    }

    /** Converts little-endian s16 bytes back to floats (for tests and decoders). */
    public static float[] toFloats(byte[] bytes, int offset, int length) {
        float[] out = new float[length / 2];
        for (int i = 0; i < out.length; i++) {
            int lo = bytes[offset + 2 * i] & 0xff;
            int hi = bytes[offset + 2 * i + 1];
            out[i] = (short) ((hi << 8) | lo) / 32768f;
        }
        return out;
    }
}
