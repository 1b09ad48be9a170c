package dev.localai.tts.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine;
import picocli.CommandLine.ParseResult;

/**
 * The JVM archive a launcher's first run writes at exit (a class-data archive, or an AOT cache on Java 25:
 * {@code tts_cds_flags} in {@code bin/jvm-env.sh}, which names it in the system property {@value #PROPERTY}). An
 * archive keeps what its run loaded and ran, and every later start maps it, so one written by a run that did no real
 * work (only help, a version or the root's usage printed, or a command that failed) would make every later start load
 * the model's classes the slow way: such a run leaves {@code NAME.discard} beside it, and the launcher's next start
 * deletes both and writes a new one.
 */
final class JvmArchive {
    /** The system property naming the archive this run writes at exit; absent when it writes none. */
    static final String PROPERTY = "localai.tts.jvmArchive";

    private JvmArchive() {}

    /**
     * Whether a run's archive is worth keeping (pure logic): the run exited with 0 and ran a command, not only help
     * or a version ({@code --help}, {@code --version}, {@code help ...}) or a group's usage ({@code tts},
     * {@code tts bench}).
     */
    static boolean worthKeeping(int exitCode, ParseResult parsed) {
        if (exitCode != 0 || parsed == null) {
            return false;
        }
        ParseResult last = parsed;
        for (ParseResult p = parsed; p != null; p = p.subcommand()) {
            if (p.isUsageHelpRequested() || p.isVersionHelpRequested()
                    || p.commandSpec().userObject() instanceof CommandLine.HelpCommand) {
                return false;
            }
            last = p;
        }
        // a command with subcommands of its own (tts, tts bench, tts voices) only prints its usage when run
        return last.commandSpec().subcommands().isEmpty();
    }

    /**
     * Marks {@code archive} (this run's, or null where it writes none) to be discarded unless the run is
     * {@link #worthKeeping}. A mark that cannot be written is ignored: the archive is then kept, as before marks.
     */
    static void judge(String archive, int exitCode, ParseResult parsed) {
        if (archive == null || archive.isBlank() || worthKeeping(exitCode, parsed)) {
            return;
        }
        try {
            Files.writeString(Path.of(archive + ".discard"), "");
        } catch (IOException | RuntimeException e) {
            // the archive is kept: every later start maps fewer classes than it could, nothing worse
        }
    }
}
