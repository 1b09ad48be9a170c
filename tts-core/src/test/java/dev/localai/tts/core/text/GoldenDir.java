package dev.localai.tts.core.text;

import java.nio.file.Files;
import java.nio.file.Path;

/** Finds shared/golden/tiny by walking up from the working directory. */
final class GoldenDir {
    private GoldenDir() {
    }

    static Path tiny() {
        Path p = Path.of("").toAbsolutePath();
        while (p != null) {
            Path g = p.resolve("shared").resolve("golden").resolve("tiny");
            if (Files.isDirectory(g)) {
                return g;
            }
            p = p.getParent();
        }
        throw new IllegalStateException("shared/golden/tiny not found above " + Path.of("").toAbsolutePath());
    }
}
