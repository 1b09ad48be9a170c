package dev.localai.tts.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.api.testing.PackageLayers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tts-api's packages import only from their own layer and the layers below: the Prometheus writer ({@code metrics})
 * on its own, the wire types (the root package) on nothing of this module's, the HTTP helpers ({@code http}) on the
 * wire types. Also the check itself ({@link PackageLayers}, which every module's layering test uses).
 */
class PackageLayersTest {
    static final PackageLayers LAYERS = new PackageLayers("dev.localai.tts.api", List.of("metrics", "", "http"));

    @Test
    void everyReferenceGoesDownTheLayers() throws IOException {
        assertThat(LAYERS.violations(Path.of("src/main/java/dev/localai/tts/api"), 20)).isEmpty();
    }

    @Test
    void findsAnUpwardReferenceAndAnUnplacedPackage(@TempDir Path dir) throws IOException {
        Path pkg = Files.createDirectories(dir.resolve("metrics"));
        Files.writeString(pkg.resolve("A.java"), "package dev.localai.tts.api.metrics;\n"
                + "import dev.localai.tts.api.http.CrossSiteGuard;\n/* dev.localai.tts.api.Json.X */\nclass A {}\n");
        Files.writeString(dir.resolve("B.java"), "package dev.localai.tts.api;\n"
                + "class B { Object o = dev.localai.tts.api.metrics.Histogram.class;"
                + " Object p = dev.localai.tts.api.extra.Thing.class; }\n");
        assertThat(LAYERS.violations(dir, 2)).containsExactly(
                "metrics/A.java (metrics) uses dev.localai.tts.api.http (http)",
                "no layer: dev.localai.tts.api.extra");
        assertThat(LAYERS.layerOf("dev.localai.tts.api")).isEqualTo(1);
        assertThat(LAYERS.layerOf("dev.localai.tts.apix")).isEqualTo(-1);
        assertThatThrownBy(() -> LAYERS.violations(dir, 3))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("2 source files");
    }
}
