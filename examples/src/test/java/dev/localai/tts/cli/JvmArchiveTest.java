package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A JVM archive written by a run that did no real work is marked to be discarded ({@link JvmArchive}): the launcher's
 * next start then writes a new one instead of mapping one that holds few of the classes a real run needs.
 */
class JvmArchiveTest {
    @TempDir
    Path tmp;

    /** Runs the command line in-process as {@code TtsCli.main} does, then judges the archive at {@code archive}. */
    private int run(Path archive, String... args) {
        CommandLine cl = TtsCli.commandLine(Map.of(), tmp);
        cl.setOut(new PrintWriter(new StringWriter(), true));
        cl.setErr(new PrintWriter(new StringWriter(), true));
        int code = cl.execute(args);
        JvmArchive.judge(archive.toString(), code, cl.getParseResult());
        return code;
    }

    private Path discard(Path archive) {
        return archive.resolveSibling(archive.getFileName() + ".discard");
    }

    @Test
    void aRunThatOnlyPrintedHelpAVersionOrAGroupsUsageMarksItsArchive() {
        String[][] trivial = {
            {"--help"}, {"-h"}, {"--version"}, {"-V"}, {}, {"speak", "--help"}, {"bench", "engine", "-h"},
            {"help"}, {"help", "speak"}, {"bench"}, {"voices"},
        };
        int n = 0;
        for (String[] args : trivial) {
            Path archive = tmp.resolve("trivial-" + n++ + ".aot");
            assertThat(run(archive, args)).as(String.join(" ", args)).isZero();
            assertThat(discard(archive)).as(String.join(" ", args)).exists();
        }
    }

    @Test
    void aRunThatFailedMarksItsArchive() {
        Path usage = tmp.resolve("usage.aot");
        assertThat(run(usage, "speak", "--no-such-option")).isNotZero();
        assertThat(discard(usage)).exists();
        Path failed = tmp.resolve("failed.aot");
        assertThat(run(failed, "voices", "delete", "nobody", "--voices", tmp.resolve("none").toString())).isNotZero();
        assertThat(discard(failed)).exists();
    }

    @Test
    void aRunThatDidItsWorkKeepsItsArchive() throws Exception {
        Path archive = tmp.resolve("kept.aot");
        assertThat(run(archive, "voices", "list", "--voices", tmp.resolve("library").toString())).isZero();
        assertThat(discard(archive)).doesNotExist();
        // and a run that writes no archive marks nothing
        JvmArchive.judge(null, 1, null);
        JvmArchive.judge("", 1, null);
        try (var files = Files.list(tmp)) {
            assertThat(files.filter(f -> f.toString().endsWith(".discard"))).isEmpty();
        }
    }
}
