package dev.localai.tts.core.audio;

import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.Buffer;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameGrabber;
import org.bytedeco.javacv.Frame;
import org.bytedeco.javacv.FrameGrabber;

/**
 * Decodes audio files (WAV PCM 16/24/32-bit and float, FLAC, MP3, Ogg/Opus/Vorbis, and anything else the bundled
 * FFmpeg reads) to mono float32 at the file's own sample rate.
 *
 * <p>Integer PCM is scaled as libsndfile/librosa do (s16 / 2^15, s32 / 2^31); channels are averaged (librosa's
 * {@code to_mono}). No resampling happens here: use {@link Resampler} or {@link MonoAudio#resampled(int)}.
 */
public final class AudioDecoder {

    /** Default cap on decoded duration. */
    public static final double DEFAULT_MAX_SECONDS = 600.0;

    static {
        avutil.av_log_set_level(avutil.AV_LOG_FATAL);
    }

    private AudioDecoder() {
    }

    /** Decodes a file, at most {@link #DEFAULT_MAX_SECONDS}. */
    public static MonoAudio decode(Path file) {
        return decode(file, DEFAULT_MAX_SECONDS);
    }

    public static MonoAudio decode(Path file, double maxSeconds) {
        if (!Files.isRegularFile(file)) {
            throw new UndecodableAudioException("no such audio file: " + file);
        }
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(file.toFile())) {
            return grab(g, file.getFileName().toString(), maxSeconds);
        } catch (FrameGrabber.Exception e) {
            throw new UndecodableAudioException("cannot decode audio " + file.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** Decodes in-memory bytes of an audio file (any supported container). */
    public static MonoAudio decode(byte[] data) {
        return decode(data, DEFAULT_MAX_SECONDS);
    }

    public static MonoAudio decode(byte[] data, double maxSeconds) {
        if (data.length == 0) {
            throw new UndecodableAudioException("empty audio data");
        }
        InputStream in = new ByteArrayInputStream(data);
        try (FFmpegFrameGrabber g = new FFmpegFrameGrabber(in, 0)) {
            return grab(g, "audio data", maxSeconds);
        } catch (FrameGrabber.Exception e) {
            throw new UndecodableAudioException("cannot decode audio data: " + e.getMessage(), e);
        }
    }

    private static MonoAudio grab(FFmpegFrameGrabber g, String what, double maxSeconds)
            throws FrameGrabber.Exception {
        g.setSampleFormat(avutil.AV_SAMPLE_FMT_FLT);
        try {
            g.start();
        } catch (FrameGrabber.Exception e) {
            throw new UndecodableAudioException("cannot open " + what + " as audio: " + e.getMessage(), e);
        }
        int channels = g.getAudioChannels();
        int rate = g.getSampleRate();
        if (channels <= 0 || rate <= 0) {
            throw new UndecodableAudioException(what + " has no audio stream");
        }
        long maxSamples = (long) Math.ceil(maxSeconds * rate);
        float[] out = new float[Math.max(1024, (int) Math.min(rate * 30L, maxSamples + 1))];
        int n = 0;
        Frame f;
        while ((f = g.grabSamples()) != null) {
            if (f.samples == null || f.samples.length == 0) {
                continue;
            }
            if (f.sampleRate != 0 && f.sampleRate != rate) {
                throw new UndecodableAudioException(what + " changes sample rate mid-stream");
            }
            Buffer[] planes = f.samples;
            int ch = f.audioChannels > 0 ? f.audioChannels : channels;
            int frames;
            if (planes.length == 1) {
                FloatBuffer b = ((FloatBuffer) planes[0]).duplicate();
                int total = b.remaining();
                frames = total / ch;
                out = ensure(out, n + frames, maxSamples, maxSeconds);
                float[] tmp = new float[total];
                b.get(tmp);
                mixInterleaved(tmp, ch, frames, out, n);
            } else {
                FloatBuffer[] bs = new FloatBuffer[planes.length];
                for (int c = 0; c < planes.length; c++) {
                    bs[c] = ((FloatBuffer) planes[c]).duplicate();
                }
                frames = bs[0].remaining();
                out = ensure(out, n + frames, maxSamples, maxSeconds);
                float[][] tmp = new float[planes.length][frames];
                for (int c = 0; c < planes.length; c++) {
                    bs[c].get(tmp[c], 0, frames);
                }
                mixPlanar(tmp, frames, out, n);
            }
            n += frames;
        }
        if (n == 0) {
            throw new UndecodableAudioException(what + " holds no audio samples");
        }
        for (int i = 0; i < n; i++) {
            if (!Float.isFinite(out[i])) {
                throw new UndecodableAudioException(what + " holds non-finite samples");
            }
        }
        return MonoAudio.owning(Arrays.copyOf(out, n), rate);
    }

    private static float[] ensure(float[] out, int needed, long maxSamples, double maxSeconds) {
        if (needed > maxSamples) {
            throw new ClipTooLongException(maxSeconds);
        }
        if (needed <= out.length) {
            return out;
        }
        long grown = Math.min(Math.max((long) needed, out.length * 2L), Math.min(maxSamples, Integer.MAX_VALUE - 16));
        return Arrays.copyOf(out, (int) grown);
    }

    /** Channel mean as numpy computes it for float32 (sum in float32, then divide). */
    static void mixInterleaved(float[] in, int ch, int frames, float[] out, int off) {
        if (ch == 1) {
            System.arraycopy(in, 0, out, off, frames);
            return;
        }
        for (int i = 0; i < frames; i++) {
            float s = 0f;
            for (int c = 0; c < ch; c++) {
                s += in[i * ch + c];
            }
            out[off + i] = s / ch;
        }
    }

    static void mixPlanar(float[][] in, int frames, float[] out, int off) {
        int ch = in.length;
        for (int i = 0; i < frames; i++) {
            float s = 0f;
            for (int c = 0; c < ch; c++) {
                s += in[c][i];
            }
            out[off + i] = s / ch;
        }
    }
}
