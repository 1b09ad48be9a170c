package dev.localai.tts.examples;

import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.audio.encode.AudioEncoder;
import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.audio.encode.Pcm16;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import javax.sound.sampled.AudioSystem;
import javax.sound.sampled.LineUnavailableException;
import javax.sound.sampled.SourceDataLine;

/**
 * Plays speech while it is being generated: each chunk goes to the sound card (javax.sound) as soon as the engine
 * hands it over. Without an audio device (a server, a container) the stream is written to a WAV file instead, chunk
 * by chunk, so you can watch the file grow.
 *
 * <pre>
 * ./examples/run StreamAndPlay "A longer text. It starts playing before the last sentence is generated."
 * ./examples/run StreamAndPlay "Write it instead." --out stream.wav
 * </pre>
 */
public final class StreamAndPlay {
    private static final javax.sound.sampled.AudioFormat PCM16_MONO =
            new javax.sound.sampled.AudioFormat(AudioClip.SAMPLE_RATE, 16, 1, true, false);

    private StreamAndPlay() {}

    /** Where the chunks go: the speakers, or a file. */
    interface Sink extends AutoCloseable {
        void accept(float[] samples) throws Exception;

        @Override
        void close() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        String out = null;
        java.util.List<String> rest = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--out") && i + 1 < args.length) {
                out = args[++i];
            } else {
                rest.add(args[i]);
            }
        }
        ExampleArgs a = ExampleArgs.parse(rest.toArray(String[]::new), "StreamAndPlay [--model M] TEXT [--out FILE.wav]", 1);

        try (TtsEngine tts = TtsEngine.builder().model(a.model()).build();
             Sink sink = out != null ? fileSink(Path.of(out)) : speakersOrFile(Path.of("stream.wav"));
             SpeechStream stream = tts.stream(SpeechRequest.of(a.positional(0)))) {
            long t0 = System.nanoTime();
            int chunks = 0;
            while (stream.hasNext()) {
                AudioChunk chunk = stream.next();
                if (chunks++ == 0) {
                    System.out.printf("first audio after %.0f ms%n", (System.nanoTime() - t0) / 1e6);
                }
                sink.accept(chunk.samples());
            }
            System.out.printf("%d chunks, %.2f s of audio%n", chunks, stream.stats().audioSeconds());
        }
    }

    /** The default sound device when there is one, else a WAV file. */
    static Sink speakersOrFile(Path fallback) throws Exception {
        try {
            SourceDataLine line = AudioSystem.getSourceDataLine(PCM16_MONO);
            line.open(PCM16_MONO, AudioClip.SAMPLE_RATE / 5 * 2); // a 200 ms buffer
            line.start();
            System.out.println("playing on " + line.getLineInfo());
            return new Sink() {
                @Override
                public void accept(float[] samples) {
                    byte[] pcm = Pcm16.toBytes(samples, 0, samples.length);
                    line.write(pcm, 0, pcm.length);
                }

                @Override
                public void close() {
                    line.drain();
                    line.close();
                }
            };
        } catch (LineUnavailableException | IllegalArgumentException | SecurityException e) {
            System.out.println("no audio device (" + e.getMessage() + "); writing " + fallback);
            return fileSink(fallback);
        }
    }

    /**
     * A streamed WAV file: the header first, then each chunk as it comes; on close the header's size fields (unknown
     * while streaming) are filled in, so every player reads the file.
     */
    static Sink fileSink(Path file) throws Exception {
        OutputStream os = Files.newOutputStream(file);
        AudioEncoder wav = AudioEncoders.streaming(AudioFormat.WAV, os, AudioClip.SAMPLE_RATE);
        return new Sink() {
            @Override
            public void accept(float[] samples) throws Exception {
                wav.write(samples);
                os.flush();
            }

            @Override
            public void close() throws Exception {
                try (os; wav) {
                    wav.finish();
                }
                try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
                    long size = ch.size();
                    ch.write(littleEndian((int) (size - 8)), 4);    // RIFF chunk size
                    ch.write(littleEndian((int) (size - 44)), 40);  // data chunk size
                }
            }
        };
    }

    private static ByteBuffer littleEndian(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(0, v);
    }
}
