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

    /** A factory for the supervisor: loads the model (downloading it if allowed) and warms engine and encoders. */
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
            TtsEngine engine = b.build();
            if (c.warmUp()) {
                try {
                    AudioEncoders.warmUp();
                } catch (RuntimeException e) {
                    engine.close();
                    throw e;
                }
            }
            return engine;
        };
    }
}
