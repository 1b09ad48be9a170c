package dev.localai.tts.server.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The jar's entry point loads on any Java and tells an old one, in one line, that Java 21+ is needed. */
class LauncherTest {

    @Test
    void isCompiledForJava8SoAnyJavaLoadsIt() throws IOException {
        try (InputStream in = Launcher.class.getResourceAsStream("Launcher.class");
             DataInputStream d = new DataInputStream(in)) {
            assertThat(d.readInt()).isEqualTo(0xCAFEBABE);
            d.readUnsignedShort();
            assertThat(d.readUnsignedShort()).as("class file major version (52 = Java 8)").isEqualTo(52);
        }
    }

    @Test
    void readsTheFeatureVersion() {
        assertThat(Launcher.featureVersion("1.8")).isEqualTo(8);
        assertThat(Launcher.featureVersion("17")).isEqualTo(17);
        assertThat(Launcher.featureVersion("21")).isEqualTo(21);
        assertThat(Launcher.featureVersion("25.0.1")).isEqualTo(25);
        assertThat(Launcher.featureVersion("weird")).isZero();
    }

    @Test
    void anOldJavaGetsOneLineAndExitCode1() throws Exception {
        Optional<Path> old = oldJava();
        Assumptions.assumeTrue(old.isPresent(), "no Java older than 21 under /usr/lib/jvm to try");
        Path classes = Path.of(Launcher.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process p = new ProcessBuilder(old.get().toString(), "-cp", classes.toString(), Launcher.class.getName(),
                "--port", "8006").redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(err.strip().lines()).as(err).hasSize(1);
        assertThat(err).startsWith("tts-server: needs Java 21 or newer, but this is Java ").contains("./tts serve");
    }

    /** A java binary of a Java 8-20 install under /usr/lib/jvm (Debian's openjdk-17, say), if any. */
    private static Optional<Path> oldJava() throws IOException {
        Path jvms = Path.of("/usr/lib/jvm");
        if (!Files.isDirectory(jvms)) {
            return Optional.empty();
        }
        try (Stream<Path> s = Files.list(jvms)) {
            return s.filter(d -> !Files.isSymbolicLink(d))
                    .filter(d -> Files.isRegularFile(d.resolve("release")))
                    .filter(d -> Files.isExecutable(d.resolve("bin/java")))
                    .filter(d -> {
                        int v = releaseVersion(d.resolve("release"));
                        return v >= 8 && v < Launcher.MIN_JAVA;
                    })
                    .sorted(Comparator.naturalOrder())
                    .map(d -> d.resolve("bin/java"))
                    .findFirst();
        }
    }

    /** JAVA_VERSION="17.0.15" in a JDK's release file, as a feature version (0 when unreadable). */
    private static int releaseVersion(Path release) {
        try {
            for (String line : Files.readAllLines(release)) {
                if (line.startsWith("JAVA_VERSION=")) {
                    return Launcher.featureVersion(line.substring("JAVA_VERSION=".length()).replace("\"", ""));
                }
            }
        } catch (IOException e) {
            return 0;
        }
        return 0;
    }
}
