package dev.localai.tts.core.engine.api;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the voice library lives when none is configured: one per-user directory that the {@code tts} CLI and
 * {@code tts-server} share, so a voice added with one is there for the other. It follows the XDG base-directory
 * convention: {@code $XDG_DATA_HOME/localai-tts/voices}, or {@code ~/.local/share/localai-tts/voices} when
 * {@code XDG_DATA_HOME} is unset.
 */
public final class VoiceLibraryDirs {
    private VoiceLibraryDirs() {
    }

    /** The default library directory for this environment and home directory. */
    public static Path defaultDir(Map<String, String> env, Path userHome) {
        String xdg = env.get("XDG_DATA_HOME");
        // the XDG spec says a relative XDG_DATA_HOME is invalid and is to be ignored
        Path base = xdg != null && !xdg.isBlank() && Path.of(xdg).isAbsolute()
                ? Path.of(xdg) : userHome.resolve(".local").resolve("share");
        return base.resolve("localai-tts").resolve("voices");
    }

    /** The default library directory of this process ({@code System.getenv()}, {@code user.home}). */
    public static Path defaultDir() {
        return defaultDir(System.getenv(), Path.of(System.getProperty("user.home")));
    }
}
