package dev.localai.tts.core.engine.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * How to build a {@link SpeechSynthesizer}: handed by the server to a {@link SpeechSynthesizerProvider}.
 *
 * @param modelSource   a local directory or a Hugging Face repo id (e.g. {@code ResembleAI/chatterbox-turbo}),
 *                      or {@code null} for the default
 * @param device        {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}
 * @param voicesDir     the voice library directory (created if missing), or {@code null}
 * @param threads       CPU threads for inference (0 = automatic)
 * @param maxConcurrent generations run at once
 * @param maxQueue      requests allowed to wait for a slot before {@link EngineException.Kind#BUSY}
 * @param allowDownload whether the model may be downloaded when not in the local cache
 * @param options       free-form provider options (from the {@code engine.options} config section)
 */
public record EngineConfig(String modelSource, String device, Path voicesDir, int threads, int maxConcurrent,
                           int maxQueue, boolean allowDownload, Map<String, String> options) {
    public EngineConfig {
        if (device == null || device.isBlank()) {
            device = "auto";
        }
        if (maxConcurrent < 1) {
            throw new IllegalArgumentException("maxConcurrent must be >= 1: " + maxConcurrent);
        }
        if (maxQueue < 0) {
            throw new IllegalArgumentException("maxQueue must be >= 0: " + maxQueue);
        }
        options = options == null ? Map.of() : Map.copyOf(options);
    }
}
