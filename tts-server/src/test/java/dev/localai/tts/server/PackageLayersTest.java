package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.testing.PackageLayers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * tts-server's packages import only from their own layer and the layers below (docs/architecture.md, "tts-server's
 * packages, bottom to top"); the root package (Main, TtsServer) wires them all.
 */
class PackageLayersTest {
    static final PackageLayers LAYERS = new PackageLayers("dev.localai.tts.server", List.of("config", "metrics",
            "http", "engine", "ops", "web", "speech", "voices", "wyoming", ""));

    @Test
    void everyReferenceGoesDownTheLayers() throws IOException {
        assertThat(LAYERS.violations(Path.of("src/main/java/dev/localai/tts/server"), 30)).isEmpty();
    }

    @Test
    void theRootPackageIsTheTopLayer() {
        assertThat(LAYERS.layerOf("dev.localai.tts.server")).isEqualTo(9);
        assertThat(LAYERS.layerOf("dev.localai.tts.server.http")).isEqualTo(2);
        assertThat(LAYERS.layerOf("dev.localai.tts.serverx")).isEqualTo(-1);
    }
}
