package dev.localai.tts.core.audio.encode;

import dev.localai.tts.core.audio.AudioFormat;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.FloatBuffer;
import org.bytedeco.ffmpeg.global.avcodec;
import org.bytedeco.ffmpeg.global.avutil;
import org.bytedeco.javacv.FFmpegFrameRecorder;
import org.bytedeco.javacv.SeekableByteArrayOutputStream;

/**
 * mp3 / Ogg Opus / ADTS AAC / FLAC through FFmpeg's encoders and muxers (JavaCV's recorder over an
 * {@link OutputStream}). Streamed: the muxer flushes after every packet ({@code flush_packets}) and Ogg pages are
 * short, so bytes leave as soon as the codec releases them. Whole file: the muxer writes into a seekable buffer so
 * headers carry real sizes and durations (Xing/LAME tag, FLAC STREAMINFO), then the buffer is copied out.
 */
final class FfmpegEncoder implements AudioEncoder {

    static {
        avutil.av_log_set_level(avutil.AV_LOG_ERROR);
    }

    private final AudioFormat format;
    private final OutputStream out;
    private final int inputRate;
    private final SeekableByteArrayOutputStream fileBuffer;
    private final CountingOutputStream sink;
    private final FFmpegFrameRecorder recorder;
    private boolean finished;
    private boolean closed;

    FfmpegEncoder(AudioFormat format, OutputStream out, int inputRate, boolean streaming, EncoderSettings settings)
            throws IOException {
        this.format = format;
        this.out = out;
        this.inputRate = inputRate;
        this.fileBuffer = streaming ? null : new SeekableByteArrayOutputStream();
        this.sink = streaming ? new CountingOutputStream(out) : null;
        FFmpegFrameRecorder r = new FFmpegFrameRecorder(streaming ? sink : fileBuffer, 1);
        r.setCloseOutputStream(false);
        r.setAudioChannels(1);
        switch (format) {
            case MP3 -> {
                r.setFormat("mp3");
                r.setAudioCodec(avcodec.AV_CODEC_ID_MP3);
                r.setSampleRate(inputRate);
                r.setAudioBitrate(settings.mp3Bitrate());
            }
            case OPUS -> {
                r.setFormat("ogg");
                r.setAudioCodecName("libopus");
                r.setSampleRate(48_000); // libopus runs at 48 kHz; the recorder resamples
                r.setAudioBitrate(settings.opusBitrate());
                if (streaming) {
                    r.setOption("page_duration", "100000"); // 100 ms Ogg pages instead of 1 s
                }
            }
            case AAC -> {
                r.setFormat("adts");
                r.setAudioCodec(avcodec.AV_CODEC_ID_AAC);
                r.setSampleRate(inputRate);
                r.setAudioBitrate(settings.aacBitrate());
            }
            case FLAC -> {
                r.setFormat("flac");
                r.setAudioCodec(avcodec.AV_CODEC_ID_FLAC);
                r.setSampleRate(inputRate);
            }
            default -> throw new IllegalArgumentException("not an FFmpeg format: " + format);
        }
        if (streaming) {
            r.setOption("flush_packets", "1");
        }
        try {
            r.start();
        } catch (FFmpegFrameRecorder.Exception e) {
            release(r);
            throw new IOException("cannot start the " + format.wireName() + " encoder: " + e.getMessage(), e);
        }
        this.recorder = r;
    }

    @Override
    public AudioFormat format() {
        return format;
    }

    @Override
    public void write(float[] samples, int offset, int length) throws IOException {
        if (finished || closed) {
            throw new IllegalStateException("encoder already finished");
        }
        if (length == 0) {
            return;
        }
        try {
            recorder.recordSamples(inputRate, 1, FloatBuffer.wrap(samples, offset, length));
        } catch (FFmpegFrameRecorder.Exception e) {
            throw asIo(e);
        }
        if (sink != null) {
            sink.rethrow();
            out.flush();
        }
    }

    @Override
    public void finish() throws IOException {
        if (finished) {
            return;
        }
        finished = true;
        try {
            recorder.stop(); // drains the codec and writes the trailer
        } catch (FFmpegFrameRecorder.Exception e) {
            throw asIo(e);
        }
        if (sink != null) {
            sink.rethrow();
        } else {
            out.write(fileBuffer.toByteArray());
        }
        out.flush();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        release(recorder);
    }

    private IOException asIo(Exception e) {
        if (sink != null && sink.failure != null) {
            return sink.failure;
        }
        return new IOException(format.wireName() + " encoding failed: " + e.getMessage(), e);
    }

    private static void release(FFmpegFrameRecorder r) {
        try {
            r.release();
        } catch (Exception ignored) {
            // nothing more can be done
        }
    }

    /** Remembers the first write failure (a client that went away) so it can be rethrown as such. */
    private static final class CountingOutputStream extends OutputStream {
        private final OutputStream out;
        private IOException failure;

        CountingOutputStream(OutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            if (failure != null) {
                throw failure;
            }
            try {
                out.write(b, off, len);
            } catch (IOException e) {
                failure = e;
                throw e;
            } catch (RuntimeException e) {
                failure = new IOException(e.getMessage(), e);
                throw failure;
            }
        }

        @Override
        public void flush() throws IOException {
            if (failure == null) {
                try {
                    out.flush();
                } catch (IOException e) {
                    failure = e;
                    throw e;
                } catch (RuntimeException e) {
                    failure = new IOException(e.getMessage(), e);
                    throw failure;
                }
            }
        }

        void rethrow() throws IOException {
            if (failure != null) {
                throw failure;
            }
        }
    }
}
