package dev.localai.tts.core.engine;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import dev.localai.tts.core.config.ModelConfig;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.hub.HubCache;
import dev.localai.tts.core.hub.HubDownloader;
import dev.localai.tts.core.hub.HubOptions;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns a model source string into a directory in the official layout:
 * <ul>
 *   <li>a directory path: used as it is;</li>
 *   <li>{@code owner/name[@revision]}: the Hugging Face cache snapshot (downloading the missing files when
 *       allowed);</li>
 *   <li>{@code tiny[:seed]}: a tiny random checkpoint in the official layout, generated once into
 *       {@code ~/.cache/localai-tts/tiny-<seed>} (speaks noise; for tests and demos without the real files).</li>
 * </ul>
 */
public final class ModelSource {
    /** The official model. */
    public static final String DEFAULT = ChatterboxTurboFiles.REPO;
    private static final Pattern REPO = Pattern.compile("([A-Za-z0-9][\\w.-]*/[\\w.-]+)(?:@([\\w./-]+))?");
    private static final Pattern TINY = Pattern.compile("tiny(?::(-?\\d+))?");

    /**
     * A resolved source.
     *
     * @param dir         the directory holding the files
     * @param revision    what identifies these weights (a commit hash, or a content description)
     * @param description what to show users
     */
    public record Resolved(Path dir, String revision, String description) {}

    private ModelSource() {}

    public static Resolved resolve(String spec, boolean allowDownload, PrintStream progress) {
        String s = spec == null || spec.isBlank() ? DEFAULT : spec.trim();
        Matcher tiny = TINY.matcher(s);
        if (tiny.matches()) {
            long seed = tiny.group(1) == null ? 0 : Long.parseLong(tiny.group(1));
            Path dir = cacheHome().resolve("tiny-" + seed);
            return new Resolved(tiny(dir, seed), "tiny-" + seed, "tiny random checkpoint (seed " + seed + ")");
        }
        Path p = Path.of(s);
        if (Files.isDirectory(p)) {
            Path dir = p.toAbsolutePath().normalize();
            return new Resolved(dir, "local-" + Integer.toHexString(dir.toString().hashCode()), dir.toString());
        }
        Matcher repo = REPO.matcher(s);
        if (!repo.matches() || s.startsWith("/") || s.startsWith(".")) {
            throw new CheckpointException("model source '" + s + "' is neither a directory, nor a Hugging Face repo id "
                    + "(owner/name[@revision]), nor tiny[:seed]");
        }
        String id = repo.group(1);
        String rev = repo.group(2) == null ? ChatterboxTurboFiles.DEFAULT_REVISION : repo.group(2);
        HubCache cache = HubCache.fromEnvironment();
        Optional<Path> found = cache.find(id, rev, ChatterboxTurboFiles.REQUIRED);
        Path dir;
        if (found.isPresent()) {
            dir = found.get();
        } else {
            HubOptions opts = HubOptions.fromEnvironment();
            if (!allowDownload) {
                opts = new HubOptions(opts.endpoint(), opts.token(), true, opts.connectTimeout(), opts.readTimeout(),
                        opts.maxAttempts(), progress);
            } else if (progress != null) {
                opts = new HubOptions(opts.endpoint(), opts.token(), opts.offline(), opts.connectTimeout(),
                        opts.readTimeout(), opts.maxAttempts(), progress);
            }
            dir = new HubDownloader(cache, opts).download(id, rev, ChatterboxTurboFiles.REQUIRED);
        }
        return new Resolved(dir, dir.getFileName().toString(), id + "@" + dir.getFileName());
    }

    /** Generates (once) a tiny checkpoint with the golden tiny sizes into {@code dir}. */
    public static Path tiny(Path dir, long seed) {
        return tiny(dir, seed, TinyCheckpoint.CondsSpec.tiny());
    }

    /**
     * Generates (once) a tiny checkpoint into {@code dir} whose built-in voice has the sizes {@code conds} (a longer
     * S3Gen prompt, for instance: {@code CondsSpec.tiny().withGenPromptTokens(200)}).
     */
    public static Path tiny(Path dir, long seed, TinyCheckpoint.CondsSpec conds) {
        if (Files.isRegularFile(dir.resolve(".complete"))) {
            return dir;
        }
        try {
            Path tmp = Files.createDirectories(dir.getParent()).resolve(dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            ModelConfig c = ModelConfig.tiny();
            TinyCheckpoint.generate(tmp, seed, c.inventory(), c.t3().textTokensDictSize(), conds);
            Files.writeString(tmp.resolve(".complete"), "seed " + seed + "\n");
            try {
                Files.move(tmp, dir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                if (!Files.isRegularFile(dir.resolve(".complete"))) {
                    throw e;
                }
                deleteTree(tmp);
            }
            return dir;
        } catch (IOException e) {
            throw new CheckpointException("cannot write a tiny checkpoint to " + dir + ": " + e.getMessage(), e);
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (Files.isDirectory(p)) {
            try (var s = Files.list(p)) {
                for (Path c : s.toList()) {
                    deleteTree(c);
                }
            }
        }
        Files.deleteIfExists(p);
    }

    /** {@code $XDG_CACHE_HOME/localai-tts} or {@code ~/.cache/localai-tts}. */
    public static Path cacheHome() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("localai-tts");
    }
}
