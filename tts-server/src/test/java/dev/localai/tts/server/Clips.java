package dev.localai.tts.server;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import java.util.Random;

/** Reference clips for voice uploads: a speech-like signal (harmonics under a syllable-rate envelope). */
final class Clips {
    private Clips() {
    }

    static byte[] voiceLike(double seconds, long seed, AudioFormat format) {
        int sr = 24000;
        int n = (int) (seconds * sr);
        float[] x = new float[n];
        Random rnd = new Random(seed);
        double f0 = 110 + rnd.nextInt(80);
        double phase = 0;
        for (int i = 0; i < n; i++) {
            double t = i / (double) sr;
            double env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 4 * t);
            double f = f0 * (1 + 0.1 * Math.sin(2 * Math.PI * 0.5 * t));
            phase += 2 * Math.PI * f / sr;
            double v = 0;
            for (int h = 1; h <= 8; h++) {
                v += Math.sin(h * phase) / h;
            }
            x[i] = (float) (0.2 * env * v + 0.01 * rnd.nextGaussian());
        }
        return AudioEncoders.encode(format, x, sr);
    }

    /** A multipart/form-data body. Each part is {name, filename-or-null, bytes}. */
    static byte[] multipart(String boundary, Object[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (Object[] p : parts) {
            String head = "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + p[0] + "\""
                    + (p[1] == null ? "" : "; filename=\"" + p[1] + "\"") + "\r\n"
                    + (p[1] == null ? "" : "Content-Type: application/octet-stream\r\n") + "\r\n";
            out.writeBytes(head.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.writeBytes(p[2] instanceof byte[] b ? b : p[2].toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            out.writeBytes("\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
        out.writeBytes(("--" + boundary + "--\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        return out.toByteArray();
    }
}
