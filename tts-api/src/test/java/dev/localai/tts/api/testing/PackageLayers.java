package dev.localai.tts.api.testing;

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

/**
 * A module's packages against its layers, bottom to top (docs/architecture.md): every reference from a main source
 * to another package under the module's root, by import or by a qualified name outside comments, must go to its own
 * layer or one below, and every package must have a layer, so a new one is placed on purpose. A package is in the
 * longest layer its name starts with ({@code engine.api} before {@code engine}, {@code model.t3} in {@code model});
 * the layer {@code ""} is the root package itself.
 */
public final class PackageLayers {
    private static final Pattern PACKAGE = Pattern.compile("^package ([\\w.]+);", Pattern.MULTILINE);

    private final String root;
    private final List<String> layers;
    /** A qualified name under the root: its package, then a capitalized (type) segment. */
    private final Pattern reference;

    /** {@code root}: the module's root package ({@code dev.localai.tts.core}); {@code layers}: bottom to top. */
    public PackageLayers(String root, List<String> layers) {
        this.root = root;
        this.layers = List.copyOf(layers);
        this.reference = Pattern.compile(Pattern.quote(root) + "((?:\\.[a-z]\\w*)*)\\.[A-Z]");
    }

    /** The index of {@code pkg}'s layer, bottom 0; -1 where it has none (or lies outside the root). */
    public int layerOf(String pkg) {
        String rest;
        if (pkg.equals(root)) {
            rest = "";
        } else if (pkg.startsWith(root + ".")) {
            rest = pkg.substring(root.length() + 1);
        } else {
            return -1;
        }
        int best = -1;
        for (int i = 0; i < layers.size(); i++) {
            String l = layers.get(i);
            boolean in = l.isEmpty() ? rest.isEmpty() : rest.equals(l) || rest.startsWith(l + ".");
            if (in && (best < 0 || l.length() > layers.get(best).length())) {
                best = i;
            }
        }
        return best;
    }

    /** The packages under the root that {@code source} refers to by import or qualified name, outside comments. */
    public Set<String> references(String source) {
        String code = source.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\\n]*", " ");
        Matcher m = reference.matcher(code);
        Set<String> out = new TreeSet<>();
        while (m.find()) {
            out.add(root + m.group(1));
        }
        return out;
    }

    /**
     * What breaks the order in the sources under {@code sources} (the module's {@code src/main/java}): "FILE (layer)
     * uses PACKAGE (layer)" for each reference up the layers, "no layer: PACKAGE" for each package without one; empty
     * when every reference goes down. Throws where fewer than {@code atLeast} files were read (a wrong path).
     */
    public List<String> violations(Path sources, int atLeast) throws IOException {
        List<String> out = new ArrayList<>();
        Set<String> unplaced = new TreeSet<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(sources)) {
            for (Path p : all.filter(f -> f.toString().endsWith(".java")).sorted().toList()) {
                String source = Files.readString(p);
                Matcher pm = PACKAGE.matcher(source);
                if (!pm.find()) {
                    continue; // a file with no package declaration is not one of the module's classes
                }
                files++;
                int own = layerOf(pm.group(1));
                if (own < 0) {
                    unplaced.add(pm.group(1));
                    continue;
                }
                for (String ref : references(source)) {
                    int to = layerOf(ref);
                    if (to < 0) {
                        unplaced.add(ref);
                    } else if (to > own) {
                        out.add(sources.relativize(p) + " (" + name(own) + ") uses " + ref + " (" + name(to) + ")");
                    }
                }
            }
        }
        if (files < atLeast) {
            throw new IllegalStateException(files + " source files under " + sources + ", expected " + atLeast);
        }
        unplaced.forEach(pkg -> out.add("no layer: " + pkg));
        return out;
    }

    private String name(int layer) {
        String l = layers.get(layer);
        return l.isEmpty() ? "root" : l;
    }
}
