package dev.localai.tts.core.engine;

import dev.localai.tts.core.runtime.Device;
import java.nio.file.Path;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** A checkpoint loaded on the CPU in fp32 with its built-in voice prepared, for tests that drive {@link Utterance}. */
record LoadedModel(ChatterboxTurbo model, PreparedVoice voice) implements AutoCloseable {
    static LoadedModel of(Path dir) {
        ChatterboxTurbo model = ChatterboxTurbo.fromPretrained(dir, Device.cpu(), ScalarType.Float);
        try {
            return new LoadedModel(model, PreparedVoice.of("default", model.builtinVoice(), Device.cpu()));
        } catch (RuntimeException | Error e) {
            model.close();
            throw e;
        }
    }

    @Override
    public void close() {
        voice.close();
        model.close();
    }
}
