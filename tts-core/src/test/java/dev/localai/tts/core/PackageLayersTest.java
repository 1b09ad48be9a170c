package dev.localai.tts.core;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.testing.PackageLayers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * tts-core's packages import only from their own layer and the layers below (docs/architecture.md, "tts-core's
 * packages, bottom to top").
 */
class PackageLayersTest {
    /** Bottom to top, as docs/architecture.md lists them. */
    static final PackageLayers LAYERS = new PackageLayers("dev.localai.tts.core", List.of("runtime", "hub",
            "checkpoint", "nn", "tuning", "text", "audio", "model", "voice", "config", "engine.api", "engine",
            "parity"));

    @Test
    void everyReferenceGoesDownTheLayers() throws IOException {
        assertThat(LAYERS.violations(Path.of("src/main/java/dev/localai/tts/core"), 100)).isEmpty();
    }

    @Test
    void theCheckSeesWhatItMustSee() {
        // an import and a qualified name in code count; the same in comments does not
        String source = "package dev.localai.tts.core.nn;\nimport dev.localai.tts.core.runtime.Torch;\n"
                + "/** {@link dev.localai.tts.core.engine.TtsEngine} */\nclass X { Object o ="
                + " dev.localai.tts.core.tuning.WeightTypes.INT8; // dev.localai.tts.core.parity.Stage\n"
                + " Object p = dev.localai.tts.core.model.t3.T3.class; }";
        assertThat(LAYERS.references(source)).containsExactly("dev.localai.tts.core.model.t3",
                "dev.localai.tts.core.runtime", "dev.localai.tts.core.tuning");
        assertThat(layer("model.t3")).isEqualTo(layer("model"));
        assertThat(layer("engine.api")).isGreaterThan(layer("voice")).isLessThan(layer("engine"));
        assertThat(layer("tuning")).isGreaterThan(layer("nn"));
        assertThat(layer("nowhere")).isEqualTo(-1);
        assertThat(layer("runtimex")).isEqualTo(-1);
        assertThat(LAYERS.layerOf("dev.localai.other")).isEqualTo(-1);
    }

    private static int layer(String pkg) {
        return LAYERS.layerOf("dev.localai.tts.core." + pkg);
    }
}
