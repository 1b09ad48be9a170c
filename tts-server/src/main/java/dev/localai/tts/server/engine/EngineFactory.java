package dev.localai.tts.server.engine;

import dev.localai.tts.core.audio.encode.AudioEncoders;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.TtsOptions;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.config.ServerConfig;
import java.util.function.Supplier;

/** Builds the Chatterbox {@link TtsEngine} from the server configuration. */
public final class EngineFactory {
    private EngineFactory() {
    }

    /** A factory for the supervisor: warms the encoders, then loads the model (downloading it if allowed) and warms it. */
    public static Supplier<SpeechSynthesizer> chatterbox(ServerConfig.Engine c) {
        return () -> {
            TtsOptions.Builder b = TtsEngine.builder()
                    .model(c.model())
                    .device(c.device())
                    .threads(c.threads())
                    .maxConcurrent(c.maxConcurrent())
                    .maxQueue(c.maxQueue())
                    .allowDownload(c.allowDownload())
                    .warmUp(c.warmUp())
                    .progress(System.err);
            if (c.voicesDir() != null) {
                b.voicesDir(c.voicesDir());
            }
            if (c.firstAudioTarget() != null) {
                b.firstAudioTarget(c.firstAudioTarget());
            }
            if (c.flowSteps() > 0) { // 0: the engine's default (the model's steps)
                b.flowSteps(c.flowSteps());
            }
            if (c.warmUp()) {
                // the encoders first, before the engine's own warm-up: a process's first FFmpeg encoding after the
                // engine has warmed up left its streamed requests 30-100% later to first audio (816-908 ms before,
                // 1185-1879 after, a 2-core Zen 5 EPYC); encoded before it was built, 835-938 (docs/performance.md,
                // "Eighteenth round")
                AudioEncoders.warmUp();
            }
            return b.build();
        };
    }
}
