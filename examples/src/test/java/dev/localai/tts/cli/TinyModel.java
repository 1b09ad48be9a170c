package dev.localai.tts.cli;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A tiny random checkpoint with its own small tokenizer (what {@code tts make-tiny-checkpoint} writes), generated once
 * per test JVM: speakable text end to end, unlike the golden checkpoint whose text table is smaller than its GPT-2
 * tokenizer.
 */
final class TinyModel {
    private static Path dir;

    private TinyModel() {
    }

    static synchronized Path dir() {
        if (dir == null) {
            try {
                Path d = Files.createTempDirectory("tts-cli-tiny-");
                TinyCheckpoint.generate(d, 11, ModelInventory.tiny(), ModelInventory.TINY_TEXT_VOCAB,
                        TinyCheckpoint.CondsSpec.tiny());
                dir = d;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(d)));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return dir;
    }

    private static void delete(Path d) {
        try (var s = Files.walk(d)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // best effort: it is a temporary directory
        }
    }
}
