package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.runtime.JvmArchive;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * How {@code tts-server} (what {@code ./tts serve} and {@code java -jar tts-server.jar} run) fails to start: one line
 * on stderr and a non-zero exit, never a stack trace or exit 0.
 */
class StartupErrorsTest {

    /** The server's entry point in a JVM of its own (the jar's main class, this test JVM's class path and flags). */
    private static Result launch(String... args) throws IOException, InterruptedException {
        return launch(List.of(), args);
    }

    /** {@link #launch(String...)} with the JVM options {@code jvm} added. */
    private static Result launch(List<String> jvm, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--enable-native-access") || a.startsWith("-Dorg.bytedeco") || a.startsWith("-Xss")
                    || a.startsWith("--sun-misc-unsafe-memory-access")) {
                cmd.add(a);
            }
        }
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.localai.tts.server.launcher.Launcher"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("tts-server did not exit; stderr:\n" + err);
        }
        return new Result(p.exitValue(), err);
    }

    private record Result(int code, String err) {
        List<String> lines() {
            return err.strip().lines().filter(l -> !l.isBlank()).toList();
        }
    }

    @Test
    void aSecondServerOnTheSamePortExitsNonZeroWithOneLineNamingThePort() throws Exception {
        // the first server: in-process, listening at once (its engine never loads, which does not matter here)
        TtsServer first = TtsServer.start(TestServers.config().voicesDir(null).build(), () -> {
            throw new IllegalStateException("no engine in this test");
        }, "none");
        try {
            int port = first.port();
            assertThat(port).isPositive();
            Result second = launch("--host", "127.0.0.1", "--port", Integer.toString(port), "--model", "tiny");
            assertThat(second.code()).as(second.err()).isNotZero();
            assertThat(second.lines()).as(second.err()).hasSizeBetween(1, 2);
            assertThat(second.err()).contains(Integer.toString(port)).contains("already in use")
                    .doesNotContain("\tat ").doesNotContain("Exception");
        } finally {
            first.shutdown();
        }
    }

    @Test
    void aBadFlagOrValueIsOneLineAndExitCode2() throws Exception {
        Result flag = launch("--prot", "8006");
        assertThat(flag.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(flag.lines()).as(flag.err()).hasSize(1);
        assertThat(flag.err()).startsWith("tts-server: unknown option '--prot'").contains("--help");

        Result value = launch("--port", "eighty");
        assertThat(value.code()).isEqualTo(Main.EXIT_USAGE);
        assertThat(value.lines()).as(value.err()).hasSize(1);
        assertThat(value.err()).contains("server.port").contains("eighty");
    }

    @Test
    void aRunThatDidNotServeMarksTheJvmArchiveItWritesToBeDiscarded(@org.junit.jupiter.api.io.TempDir Path tmp)
            throws Exception {
        // ./tts serve's first run writes a JVM archive at exit (bin/jvm-env.sh names it); one that only printed help
        // or failed to start would hold little of what serving needs, and the launcher's next start replaces it
        for (String[] args : new String[][] {{"--help"}, {"--prot", "8006"}}) {
            Path archive = tmp.resolve(args[0].substring(2) + ".aot");
            Result r = launch(List.of("-D" + JvmArchive.PROPERTY + "=" + archive), args);
            assertThat(r.err()).doesNotContain("\tat ");
            assertThat(archive.resolveSibling(archive.getFileName() + ".discard")).as(String.join(" ", args)).exists();
        }
    }

    @Test
    void theTrialBindNamesTheProblem() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            assertThat(Main.cannotListen("127.0.0.1", taken.getLocalPort()))
                    .contains("port " + taken.getLocalPort()).contains("already in use");
        }
        assertThat(Main.cannotListen("127.0.0.1", 0)).as("an ephemeral port is always free").isNull();
        assertThat(Main.cannotListen("no-such-host.invalid", 8006)).startsWith("cannot listen on no-such-host.invalid");
    }
}
