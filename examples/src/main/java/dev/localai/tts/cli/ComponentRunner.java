package dev.localai.tts.cli;

import java.nio.file.Path;

/**
 * Runs one model component on the {@code in.*} tensors of a safetensors file and writes its {@code out.*} (and
 * optionally {@code mid.*}) tensors to another, with the names the golden fixtures use.
 */
@FunctionalInterface
public interface ComponentRunner {
    void run(Path modelDir, Path in, Path out) throws Exception;
}
