package dev.localai.tts.core.audio.encode;

import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;

import java.io.ByteArrayInputStream;
import java.nio.FloatBuffer;
import java.util.Arrays;

/** Test helpers: tones, decoding any container back to 24 kHz float mono, frequency estimation. */
public final class TestAudio {
    private TestAudio() {
    }

    /** Decoded audio plus what the container said. */
    public record Decoded(float[] samples, int sampleRate, String format, String codec) {
        public double seconds() {
            return samples.length / (double) sampleRate;
        }
    }

    /** A sine tone. */
    public static float[] tone(double hz, double seconds, int sampleRate, float amplitude) {
        float[] s = new float[(int) Math.round(seconds * sampleRate)];
        for (int i = 0; i < s.length; i++) {
            s[i] = (float) (amplitude * Math.sin(2 * Math.PI * hz * i / sampleRate));
        }
        return s;
    }

    /** Decodes bytes of any format FFmpeg knows (or raw s16le 24 kHz when {@code rawPcm}) to 24 kHz mono floats. */
    public static Decoded decode(byte[] bytes, boolean rawPcm) throws Exception {
        if (rawPcm) {
            return new Decoded(Pcm16.toFloats(bytes, 0, bytes.length), 24_000, "pcm", "pcm_s16le");
        }
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(new ByteArrayInputStream(bytes), 0)) {
            g.setSampleFormat(avutil.AV_SAMPLE_FMT_FLT);
            g.setSampleRate(24_000);
            g.setAudioChannels(1);
            g.start();
            String format = g.getFormat();
            String codec = g.getAudioCodecName();
            float[] all = new float[0];
            int size = 0;
            Frame f;
            while ((f = g.grabSamples()) != null) {
                if (f.samples == null) {
                    continue;
                }
                FloatBuffer b = (FloatBuffer) f.samples[0];
                int len = b.remaining();
                if (size + len > all.length) {
                    all = Arrays.copyOf(all, Math.max(size + len, all.length * 2));
                }
                b.get(all, size, len);
                size += len;
            }
            g.stop();
            return new Decoded(Arrays.copyOf(all, size), 24_000, format, codec);
        }
    }

    /** The frequency in [lo, hi] Hz with the most energy (Goertzel scan, 0.25 Hz steps). */
    public static double dominantFrequency(float[] s, int from, int to, int sampleRate, double lo, double hi) {
        double best = lo;
        double bestPow = -1;
        for (double f = lo; f <= hi; f += 0.25) {
            double w = 2 * Math.PI * f / sampleRate;
            double c = 2 * Math.cos(w);
            double s1 = 0;
            double s2 = 0;
            for (int i = from; i < to; i++) {
                double s0 = s[i] + c * s1 - s2;
                s2 = s1;
                s1 = s0;
            }
            double p = s1 * s1 + s2 * s2 - c * s1 * s2;
            if (p > bestPow) {
                bestPow = p;
                best = f;
            }
        }
        return best;
    }

    /** Root mean square of a range. */
    public static double rms(float[] s, int from, int to) {
        double acc = 0;
        for (int i = from; i < to; i++) {
            acc += s[i] * s[i];
        }
        return Math.sqrt(acc / Math.max(1, to - from));
    }
}
