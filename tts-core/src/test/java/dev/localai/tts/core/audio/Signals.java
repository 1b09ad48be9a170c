package dev.localai.tts.core.audio;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Test signals and small spectral measurements. */
final class Signals {

    private Signals() {
    }

    static float[] tone(double hz, int rate, int n, double amp) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (amp * Math.sin(2 * Math.PI * hz * i / rate));
        }
        return x;
    }

    static double rms(float[] x, int from, int to) {
        double s = 0;
        for (int i = from; i < to; i++) {
            s += x[i] * (double) x[i];
        }
        return Math.sqrt(s / (to - from));
    }

    /** Amplitude of the component at {@code hz} (Hann-free correlation over an integer number of periods-ish). */
    static double amplitudeAt(float[] x, int rate, double hz, int from, int to) {
        double c = 0, s = 0;
        for (int i = from; i < to; i++) {
            double ph = 2 * Math.PI * hz * i / rate;
            c += x[i] * Math.cos(ph);
            s += x[i] * Math.sin(ph);
        }
        return 2 * Math.hypot(c, s) / (to - from);
    }

    /** Frequency of the strongest component between lo and hi Hz, searched on a 1 Hz grid then refined. */
    static double peakFrequency(float[] x, int rate, double lo, double hi, int from, int to) {
        double best = lo, bestA = -1;
        for (double f = lo; f <= hi; f += 1.0) {
            double a = amplitudeAt(x, rate, f, from, to);
            if (a > bestA) {
                bestA = a;
                best = f;
            }
        }
        for (double f = best - 1; f <= best + 1; f += 0.02) {
            double a = amplitudeAt(x, rate, f, from, to);
            if (a > bestA) {
                bestA = a;
                best = f;
            }
        }
        return best;
    }

    /** A RIFF/WAVE file with the given format tag, bits and interleaved samples (in [-1, 1]). */
    static byte[] wav(float[][] channels, int rate, int format, int bits) {
        int ch = channels.length;
        int n = channels[0].length;
        int bps = bits / 8;
        int data = n * ch * bps;
        boolean extensible = bits == 24;
        int fmtLen = extensible ? 40 : 16;
        ByteBuffer b = ByteBuffer.allocate(20 + fmtLen + 8 + data).order(ByteOrder.LITTLE_ENDIAN);
        b.put("RIFF".getBytes()).putInt(12 + fmtLen + 8 + data).put("WAVE".getBytes());
        b.put("fmt ".getBytes()).putInt(fmtLen).putShort((short) (extensible ? 0xFFFE : format)).putShort((short) ch)
                .putInt(rate).putInt(rate * ch * bps).putShort((short) (ch * bps)).putShort((short) bits);
        if (extensible) {
            b.putShort((short) 22).putShort((short) bits).putInt(ch == 1 ? 4 : 3);
            // KSDATAFORMAT_SUBTYPE_PCM / IEEE_FLOAT GUID
            b.putShort((short) format).put(new byte[] {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, (byte) 0x80, 0x00, 0x00,
                    (byte) 0xAA, 0x00, 0x38, (byte) 0x9B, 0x71});
        }
        b.put("data".getBytes()).putInt(data);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < ch; c++) {
                double v = channels[c][i];
                switch (bits) {
                    case 16 -> b.putShort((short) Math.round(v * 32767));
                    case 24 -> {
                        int s = (int) Math.round(v * 8388607);
                        b.put((byte) s).put((byte) (s >> 8)).put((byte) (s >> 16));
                    }
                    case 32 -> {
                        if (format == 3) {
                            b.putFloat((float) v);
                        } else {
                            b.putInt((int) Math.round(v * 2147483647.0));
                        }
                    }
                    default -> throw new IllegalArgumentException();
                }
            }
        }
        return b.array();
    }
}
