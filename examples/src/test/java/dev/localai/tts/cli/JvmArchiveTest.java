package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * Which runs did their work ({@link TtsCli#ranACommand}): the launcher keeps the JVM archive of a first run only then
 * ({@link dev.localai.tts.core.runtime.JvmArchive}), since an archive holds what its run loaded and ran.
 */
class JvmArchiveTest {
    @TempDir
    Path tmp;

    /** Runs the command line in-process as {@code TtsCli.main} does; whether the run did its work. */
    private boolean ranACommand(String... args) {
        CommandLine cl = TtsCli.commandLine(Map.of(), tmp);
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        int code = cl.execute(args);
        return TtsCli.ranACommand(code, cl.getParseResult());
    }

    @Test
    void onlyHelpAVersionOrAGroupsUsageIsNoWork() {
        String[][] trivial = {
            {"--help"}, {"-h"}, {"--version"}, {"-V"}, {}, {"speak", "--help"}, {"bench", "engine", "-h"},
            {"help"}, {"help", "speak"}, {"bench"}, {"voices"}, {"voices", "list", "--help"},
        };
        for (String[] args : trivial) {
            assertThat(ranACommand(args)).as(String.join(" ", args)).isFalse();
        }
    }

    @Test
    void aFailedRunIsNoWork() {
        assertThat(ranACommand("speak", "--no-such-option")).isFalse();
        assertThat(ranACommand("voices", "delete", "nobody", "--voices", tmp.resolve("none").toString())).isFalse();
    }

    @Test
    void aCommandThatRanIsWork() {
        assertThat(ranACommand("voices", "list", "--voices", tmp.resolve("library").toString())).isTrue();
        assertThat(TtsCli.ranACommand(0, null)).as("nothing parsed").isFalse();
    }
}
