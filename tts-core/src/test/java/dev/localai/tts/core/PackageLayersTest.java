package dev.localai.tts.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * tts-core's packages import only from the layers below them (docs/architecture.md, "tts-core's packages, bottom to
 * top"): every reference to another package of this module in the main sources, by import or by a qualified name
 * outside comments, goes down this order or stays in its own layer; and every package has a place in it, so a new one
 * is placed on purpose.
 */
class PackageLayersTest {
    /** Bottom to top; a sub-package ({@code model.t3}, {@code voice.campplus}) is in its top package's layer. */
    static final List<String> LAYERS = List.of("runtime", "hub", "checkpoint", "nn", "tuning", "text", "audio", "model",
            "voice", "config", "engine.api", "engine", "parity");
    private static final String ROOT = "dev.localai.tts.core.";
    private static final Path SOURCES = Path.of("src/main/java/dev/localai/tts/core");
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);
    private static final Pattern REFERENCE = Pattern.compile(Pattern.quote(ROOT) + "([a-z][\\w.]*?)\\.[A-Z]");

    /** The layer of a package of this module ({@code model.t3} is {@code model}); -1 where it has none. */
    static int layerOf(String pkg) {
        String rest = pkg.startsWith(ROOT) ? pkg.substring(ROOT.length()) : pkg;
        if (rest.equals("engine.api") || rest.startsWith("engine.api.")) {
            return LAYERS.indexOf("engine.api");
        }
        int dot = rest.indexOf('.');
        return LAYERS.indexOf(dot < 0 ? rest : rest.substring(0, dot));
    }

    /** Source text without its comments (string literals kept: no source names a package in one). */
    static String code(String source) {
        return source.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
    }

    /** The packages of this module that {@code source} refers to by import or qualified name, outside comments. */
    static Set<String> references(String source) {
        Set<String> out = new TreeSet<>();
        Matcher m = REFERENCE.matcher(code(source));
        while (m.find()) {
            out.add(ROOT + m.group(1));
        }
        return out;
    }

    @Test
    void everyImportGoesDownTheLayers() throws IOException {
        List<String> upward = new ArrayList<>();
        Set<String> unplaced = new TreeSet<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(SOURCES)) {
            for (Path p : all.filter(f -> f.toString().endsWith(".java")).toList()) {
                String source = Files.readString(p);
                Matcher pm = PACKAGE.matcher(source);
                assertThat(pm.find()).as("%s has a package", p).isTrue();
                String own = pm.group(1);
                int ownLayer = layerOf(own);
                if (ownLayer < 0) {
                    unplaced.add(own);
                    continue;
                }
                files++;
                for (String ref : references(source)) {
                    int refLayer = layerOf(ref);
                    if (refLayer < 0) {
                        unplaced.add(ref);
                    } else if (refLayer > ownLayer) {
                        upward.add(SOURCES.relativize(p) + " (" + LAYERS.get(ownLayer) + ") uses " + ref + " ("
                                + LAYERS.get(refLayer) + ")");
                    }
                }
            }
        }
        assertThat(files).as("main sources read").isGreaterThan(100);
        assertThat(unplaced).as("packages with no place in LAYERS").isEmpty();
        assertThat(upward).as("references to a layer above").isEmpty();
    }

    @Test
    void theCheckSeesWhatItMustSee() {
        // an import, a qualified name in code, and the same in a comment (which does not count)
        String source = "package dev.localai.tts.core.nn;\nimport dev.localai.tts.core.runtime.Torch;\n"
                + "/** {@link dev.localai.tts.core.engine.TtsEngine} */\nclass X { Object o ="
                + " dev.localai.tts.core.tuning.WeightTypes.INT8; // dev.localai.tts.core.parity.Stage\n}";
        assertThat(references(source)).containsExactly(ROOT + "runtime", ROOT + "tuning");
        assertThat(layerOf(ROOT + "model.t3")).isEqualTo(LAYERS.indexOf("model"));
        assertThat(layerOf(ROOT + "engine.api")).isGreaterThan(layerOf(ROOT + "voice"))
                .isLessThan(layerOf(ROOT + "engine"));
        assertThat(layerOf(ROOT + "tuning")).isGreaterThan(layerOf(ROOT + "nn"));
        assertThat(layerOf(ROOT + "nowhere")).isEqualTo(-1);
    }
}
