package dev.localai.tts.core.engine;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import dev.localai.tts.core.config.ModelConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * A random checkpoint at the official Turbo sizes (T3 GPT-2 medium 24 x 1024, the full S3Gen flow and HiFT), written
 * once to {@code <cache>/localai-tts/random-turbo-<seed>} (about 3 GB), so the benchmarks can run at real dimensions
 * without the real weights. The audio is noise; the compute is the real model's. Its tokenizer is the tiny
 * byte-level BPE (1024 ids, all valid rows of the 50 276-row text table); its built-in voice has a cloned voice's
 * prompt lengths (375 T3 prompt tokens, 10 s of S3Gen prompt).
 */
public final class RandomTurbo {
    private static final Logger LOG = Logger.getLogger(RandomTurbo.class.getName());

    private RandomTurbo() {}

    /** Resolves a benchmark model spec: {@code random-turbo[:seed]} becomes that directory, anything else passes. */
    public static String resolve(String spec) throws IOException {
        if (!spec.startsWith("random-turbo")) {
            return spec;
        }
        long seed = spec.contains(":") ? Long.parseLong(spec.substring(spec.indexOf(':') + 1)) : 0;
        Path dir = ModelSource.cacheHome().resolve("random-turbo-" + seed);
        if (!Files.isRegularFile(dir.resolve(".complete"))) {
            LOG.info("writing a random Turbo-size checkpoint to " + dir + " (once)...");
            long t0 = System.nanoTime();
            TinyCheckpoint.generate(dir, seed, ModelConfig.turbo().inventory(), 1024,
                    TinyCheckpoint.CondsSpec.turbo());
            Files.writeString(dir.resolve(".complete"), "seed " + seed + "\n");
            LOG.info(String.format("written in %.0f s", (System.nanoTime() - t0) / 1e9));
        }
        return dir.toString();
    }
}
