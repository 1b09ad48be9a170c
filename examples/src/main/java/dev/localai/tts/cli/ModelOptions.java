package dev.localai.tts.cli;

import dev.localai.tts.core.engine.api.VoiceLibraryDirs;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.hub.HubCache;
import dev.localai.tts.core.hub.HubDownloader;
import dev.localai.tts.core.hub.HubOptions;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Option;

/**
 * Where the model comes from ({@code --model}, {@code --offline}) and where the voice library lives
 * ({@code --voices}); shared by the commands that load the engine. Hub look-ups honour the CLI's environment
 * (HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE).
 */
final class ModelOptions {
    private static final Pattern REPO = Pattern.compile("([A-Za-z0-9][\\w.-]*/[\\w.-]+)(?:@([\\w./-]+))?");
    private static final Pattern TINY = Pattern.compile("tiny(?::-?\\d+)?");

    @Option(names = "--model", paramLabel = "DIR|REPO_ID", defaultValue = ChatterboxTurboFiles.REPO,
            description = "A model directory in the official layout, a Hugging Face repo id (owner/name[@revision], "
                    + "from the hub cache, downloaded when missing) or tiny[:seed] (random weights). "
                    + "Default: ${DEFAULT-VALUE}.")
    String model;

    @Option(names = "--offline", description = "Never use the network: the model must be in the hub cache "
            + "(like HF_HUB_OFFLINE=1).")
    boolean offline;

    @Option(names = "--voices", paramLabel = "DIR", description = "Voice library directory (default: "
            + "$XDG_DATA_HOME/localai-tts/voices or ~/.local/share/localai-tts/voices, shared with tts-server).")
    Path voices;

    /**
     * The model source to hand to the engine: a directory or {@code tiny[:seed]} as given, a repo id resolved to its
     * snapshot in the hub cache (downloading the missing files unless offline).
     */
    String resolve(TtsCli root, PrintStream progress) {
        String s = model == null || model.isBlank() ? ChatterboxTurboFiles.REPO : model.trim();
        if (TINY.matcher(s).matches()) {
            return s;
        }
        Path p = Path.of(s);
        if (Files.isDirectory(p)) {
            return p.toAbsolutePath().normalize().toString();
        }
        Matcher m = REPO.matcher(s);
        if (!m.matches() || s.startsWith(".") || s.startsWith("/")) {
            throw new IllegalArgumentException("model '" + s + "' is neither a directory, nor a Hugging Face repo id "
                    + "(owner/name[@revision]), nor tiny[:seed]");
        }
        String rev = m.group(2) == null ? ChatterboxTurboFiles.DEFAULT_REVISION : m.group(2);
        HubCache cache = HubCache.fromEnvironment(root.env, root.userHome);
        HubOptions opts = HubOptions.fromEnvironment(root.env, root.userHome);
        if (offline) {
            opts = opts.withOffline(true);
        }
        opts = opts.withTimeouts(java.time.Duration.ofSeconds(5), opts.readTimeout()).withProgress(progress);
        return new HubDownloader(cache, opts).download(m.group(1), rev, ChatterboxTurboFiles.REQUIRED).toString();
    }

    /** The voice library directory: {@code --voices}, else the per-user data directory. */
    Path voicesDir(TtsCli root) {
        return voices != null ? voices : defaultVoicesDir(root);
    }

    /** The per-user library that tts-server uses by default too. */
    static Path defaultVoicesDir(TtsCli root) {
        return VoiceLibraryDirs.defaultDir(root.env, root.userHome);
    }
}
