package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The one place that finds the JDK and holds the JVM flags ({@code bin/jvm-env.sh} and {@code bin/jvm.options}, used
 * by {@code ./tts}, {@code examples/run}, {@code .ci/run} and the bench scripts): on the Java that runs these tests,
 * the CLI speaks with those flags and the JDK prints no warning.
 */
class JvmFlagsTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @TempDir
    Path tmp;

    record Run(int code, String out, String err) {}

    private static Run run(List<String> cmd) throws IOException, InterruptedException {
        Path errFile = Files.createTempFile("jvm-flags-", ".err");
        try {
            Process p = new ProcessBuilder(cmd).redirectError(errFile.toFile()).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("exits").isTrue();
            return new Run(p.exitValue(), out, Files.readString(errFile));
        } finally {
            Files.deleteIfExists(errFile);
        }
    }

    /** What {@code bin/jvm-env.sh} says for the JDK at {@code javaHome}, run by a POSIX shell. */
    private static Run jvmEnv(String function, String arg) throws IOException, InterruptedException {
        return run(List.of("sh", "-c", "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; " + function + " \"$2\"",
                "sh", ROOT.toString(), arg));
    }

    @Test
    void theScriptFindsAJdk21AndGivesFlagsForIt() throws Exception {
        Run found = jvmEnv("tts_find_jdk", "");
        assertThat(found.code()).as(found.err()).isZero();
        Path jdk = Path.of(found.out().strip());
        Run major = jvmEnv("tts_java_major", jdk.toString());
        assertThat(Integer.parseInt(major.out().strip())).isGreaterThanOrEqualTo(21);

        String home = System.getProperty("java.home");
        Run flags = jvmEnv("tts_jvm_flags", home);
        assertThat(flags.code()).isZero();
        List<String> options = Files.readAllLines(ROOT.resolve("bin/jvm.options")).stream()
                .map(l -> l.replaceAll("#.*", "").strip()).filter(l -> !l.isEmpty()).toList();
        assertThat(options).contains("--enable-native-access=ALL-UNNAMED");
        assertThat(flags.out().strip().split(" ")).startsWith(options.toArray(String[]::new));
        boolean unsafeFlag = flags.out().contains("--sun-misc-unsafe-memory-access=allow");
        assertThat(unsafeFlag).as("the Unsafe flag exactly on Java 23+").isEqualTo(Runtime.version().feature() >= 23);
    }

    @Test
    void aSourceChangeBuildsOnceNotAtEveryLaterRun() throws Exception {
        // a repository whose Maven only counts its builds: like the real one, it leaves the CLI's jar as it was when
        // only a module the CLI depends on changed
        Path repo = tmp.resolve("repo");
        Files.createDirectories(repo.resolve("bin"));
        Files.copy(ROOT.resolve("bin/jvm-env.sh"), repo.resolve("bin/jvm-env.sh"));
        Path mvnw = repo.resolve("mvnw");
        Files.writeString(mvnw, "#!/bin/sh\necho build >> \"$(dirname \"$0\")/builds\"\n");
        mvnw.toFile().setExecutable(true);
        Path jar = Files.createDirectories(repo.resolve("examples/target")).resolve("tts-cli.jar");
        Files.writeString(jar, "jar");
        Path source = Files.createDirectories(repo.resolve("tts-core/src/main/java")).resolve("A.java");
        Files.writeString(source, "class A {}");
        // the jar built a minute ago, the source edited after it (file times may be as coarse as seconds)
        long now = System.currentTimeMillis();
        jar.toFile().setLastModified(now - 60_000);
        source.toFile().setLastModified(now - 30_000);
        String call = "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; "
                + "tts_build_if_stale tts examples \"$TTS_ROOT/examples/target/tts-cli.jar\" tts-core examples";
        for (int i = 0; i < 3; i++) {
            Run r = run(List.of("sh", "-c", call, "sh", repo.toString()));
            assertThat(r.code()).as(r.err()).isZero();
        }
        assertThat(Files.readAllLines(repo.resolve("builds"))).as("one build for one change").hasSize(1);
    }

    @Test
    void theScriptLimitsGlibcToOneArenaUnlessTheUserSetsIt() throws Exception {
        // the environment a launcher's java starts with: one arena by default, the user's own value kept
        Run fresh = run(List.of("env", "-u", "MALLOC_ARENA_MAX", "sh", "-c",
                "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; sh -c 'echo $MALLOC_ARENA_MAX'", "sh",
                ROOT.toString()));
        assertThat(fresh.out().strip()).as(fresh.err()).isEqualTo("1");
        Run own = run(List.of("env", "MALLOC_ARENA_MAX=4", "sh", "-c",
                "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; sh -c 'echo $MALLOC_ARENA_MAX'", "sh",
                ROOT.toString()));
        assertThat(own.out().strip()).as(own.err()).isEqualTo("4");
    }

    /** {@code tts_cds_flags JDK NAME} in an environment of {@code env} (VAR=value pairs) only, HOME among them. */
    private static Run cdsFlags(String jdk, String name, String... env) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("env", "-i", "PATH=" + System.getenv("PATH")));
        cmd.addAll(Arrays.asList(env));
        cmd.addAll(List.of("sh", "-c", "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; tts_cds_flags \"$2\" \"$3\"",
                "sh", ROOT.toString(), jdk, name));
        return run(cmd);
    }

    /** A directory laid out as a HotSpot JDK with its base class-data archive, as far as the launcher looks. */
    private Path fakeJdk(String name) throws IOException {
        Path server = Files.createDirectories(tmp.resolve(name).resolve("lib/server"));
        Files.writeString(server.resolve("classes.jsa"), "base archive");
        return tmp.resolve(name);
    }

    @Test
    void theClassDataArchiveGoesToTheCacheOnePerLauncherAndJdkUnlessTurnedOff() throws Exception {
        Path cache = tmp.resolve("cache");
        String jdkA = fakeJdk("jdk-a").toString();
        String jdkB = fakeJdk("jdk-b").toString();
        Run tts = cdsFlags(jdkA, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache);
        assertThat(tts.code()).as(tts.err()).isZero();
        List<String> flags = Arrays.asList(tts.out().strip().split(" "));
        assertThat(flags).startsWith("-XX:+AutoCreateSharedArchive").contains("-Xlog:cds=off", "-Xlog:cds+dynamic=off");
        String archive = flags.stream().filter(f -> f.startsWith("-XX:SharedArchiveFile=")).findFirst().orElseThrow()
                .substring("-XX:SharedArchiveFile=".length());
        assertThat(Path.of(archive).getParent()).isEqualTo(cache.resolve("localai-tts/jvm")).isDirectory();
        assertThat(Path.of(archive).getFileName().toString()).startsWith("tts-").endsWith(".jsa");
        // another launcher or another JDK: another archive (each would keep replacing the other's); the same: the same
        assertThat(cdsFlags(jdkA, "tts-server", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache).out())
                .doesNotContain(archive).contains("tts-server-");
        assertThat(cdsFlags(jdkB, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache).out()).doesNotContain(archive)
                .contains("-XX:SharedArchiveFile=");
        assertThat(cdsFlags(jdkA, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache).out()).contains(archive);
        // without XDG_CACHE_HOME: under ~/.cache
        assertThat(cdsFlags(jdkA, "tts", "HOME=" + tmp).out())
                .contains("-XX:SharedArchiveFile=" + tmp.resolve(".cache/localai-tts/jvm/tts-"));
        // no flags at all: turned off, a JDK without a base archive (not HotSpot's), no cache directory to be had, or
        // a path the callers' split would break
        assertThat(cdsFlags(jdkA, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache, "TTS_JVM_CDS=off").out())
                .isBlank();
        Path bare = Files.createDirectories(tmp.resolve("openj9/lib/server"));
        assertThat(cdsFlags(bare.getParent().getParent().toString(), "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache)
                .out()).isBlank();
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Run blocked = cdsFlags(jdkA, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + file);
        assertThat(blocked.code()).isZero();
        assertThat(blocked.out()).isBlank();
        assertThat(blocked.err()).isBlank();
        assertThat(cdsFlags(jdkA, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + tmp.resolve("with space")).out())
                .isBlank();
        assertThat(cdsFlags(jdkA, "tts").out()).as("no HOME").isBlank();
    }

    @Test
    void aJdk21TakesTheArchiveFlagsSilentlyWritesTheArchiveOnceAndKeepsIt() throws Exception {
        Run found = jvmEnv("tts_find_jdk", "");
        assertThat(found.code()).as(found.err()).isZero();
        String jdk = found.out().strip();
        // a HotSpot JDK ships its base archive, which the launcher's archive extends (others get no flags: above)
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(Path.of(jdk, "lib/server/classes.jsa")),
                "the JDK found has no base class-data archive");
        Path cache = tmp.resolve("cache");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(jdk, "bin", "java").toString());
        cmd.addAll(Arrays.asList(jvmEnv("tts_jvm_flags", jdk).out().strip().split(" ")));
        cmd.addAll(Arrays.asList(cdsFlags(jdk, "tts", "HOME=" + tmp, "XDG_CACHE_HOME=" + cache).out().strip()
                .split(" ")));
        cmd.add("-version");
        Path dir = cache.resolve("localai-tts/jvm");
        Run first = run(cmd);
        assertThat(first.code()).as(first.err()).isZero();
        List<Path> archives;
        try (var files = Files.list(dir)) {
            archives = files.toList();
        }
        assertThat(archives).as("written at the first exit").hasSize(1);
        Path archive = archives.get(0);
        long size = Files.size(archive);
        var written = Files.getLastModifiedTime(archive);
        Run second = run(cmd);
        assertThat(second.code()).as(second.err()).isZero();
        assertThat(Files.size(archive)).isEqualTo(size);
        assertThat(Files.getLastModifiedTime(archive)).as("mapped, not written again").isEqualTo(written);
        // -version prints its lines on stderr; the JVM's own notes would start with "[" (unified logging) or WARNING
        for (Run r : List.of(first, second)) {
            assertThat(r.err().lines().filter(l -> l.startsWith("[") || l.startsWith("WARNING")).toList())
                    .as(r.err()).isEmpty();
        }
    }

    @Test
    void theCliSpeaksWithTheseFlagsWithoutAJdkWarning() throws Exception {
        String home = System.getProperty("java.home");
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(home, "bin", "java").toString());
        cmd.addAll(Arrays.asList(jvmEnv("tts_jvm_flags", home).out().strip().split(" ")));
        Path wav = tmp.resolve("x.wav");
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TtsCli.class.getName(), "speak",
                "--model", TinyModel.dir().toString(), "--text", "Hi.", "--out", wav.toString(),
                "--max-tokens", "5", "--device", "cpu", "--threads", "1", "--progress", "off"));
        Run r = run(cmd);
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(wav).isRegularFile();
        // the JDK's warnings (restricted native access, sun.misc.Unsafe) all start so; LibTorch's own are "[W..."
        assertThat(r.err().lines().filter(l -> l.startsWith("WARNING")).toList()).as(r.err()).isEmpty();
        assertThat(Files.size(wav)).isGreaterThan(44);
    }
}
