package dev.localai.manager;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.testing.PackageLayers;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The manager's packages import only from their own layer and the layers below (docs/manager.md, "Packages"): the
 * container runtime and the observers under the lifecycle owner, the lifecycle under the proxy and the control API,
 * and {@code Main} (the root package) wiring them.
 */
class PackageLayersTest {
    static final PackageLayers LAYERS = new PackageLayers("dev.localai.manager", List.of("config", "error", "docker",
            "observe", "vram", "gaming", "lifecycle", "fallback", "proxy", "api", ""));

    @Test
    void everyReferenceGoesDownTheLayers() throws IOException {
        assertThat(LAYERS.violations(Path.of("src/main/java/dev/localai/manager"), 30)).isEmpty();
    }
}
