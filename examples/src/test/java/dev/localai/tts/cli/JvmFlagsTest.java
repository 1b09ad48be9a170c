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

    /** The links {@link #launcherJar} made, removed before JUnit deletes the directory (which warns of each). */
    @org.junit.jupiter.api.AfterEach
    void removeLinks() throws IOException {
        Path lib = tmp.resolve("launcher/lib");
        if (Files.isDirectory(lib)) {
            try (var links = Files.list(lib)) {
                for (Path link : links.toList()) {
                    Files.delete(link);
                }
            }
        }
    }

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

    @Test
    void theScriptAsksForHugePagesUnlessTheUserSaysOtherwise() throws Exception {
        String echo = "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; "
                + "sh -c 'echo \"$THP_MEM_ALLOC_ENABLE|$GLIBC_TUNABLES\"'";
        // nothing set: both switches on
        Run fresh = run(List.of("env", "-u", "THP_MEM_ALLOC_ENABLE", "-u", "GLIBC_TUNABLES", "sh", "-c", echo, "sh",
                ROOT.toString()));
        assertThat(fresh.out().strip()).as(fresh.err()).isEqualTo("1|glibc.malloc.hugetlb=1");
        // other tunables kept, the huge pages' one added after them
        Run other = run(List.of("env", "-u", "THP_MEM_ALLOC_ENABLE", "GLIBC_TUNABLES=glibc.malloc.arena_max=2", "sh",
                "-c", echo, "sh", ROOT.toString()));
        assertThat(other.out().strip()).as(other.err())
                .isEqualTo("1|glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1");
        // the user's own choices win, off included
        Run own = run(List.of("env", "THP_MEM_ALLOC_ENABLE=0",
                "GLIBC_TUNABLES=glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2", "sh", "-c", echo, "sh",
                ROOT.toString()));
        assertThat(own.out().strip()).as(own.err()).isEqualTo("0|glibc.malloc.hugetlb=0:glibc.malloc.arena_max=2");
        // sourcing twice (a script that sources it and runs another that does) adds nothing more
        Run twice = run(List.of("env", "-u", "THP_MEM_ALLOC_ENABLE", "-u", "GLIBC_TUNABLES", "sh", "-c",
                "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; " + echo, "sh", ROOT.toString()));
        assertThat(twice.out().strip()).as(twice.err()).isEqualTo("1|glibc.malloc.hugetlb=1");
    }

    /** {@code tts_cds_flags JDK NAME JAR} in an environment of {@code env} (VAR=value pairs) only. */
    private static Run cdsFlags(String jdk, String name, Path jar, String... env)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("env", "-i", "PATH=" + System.getenv("PATH")));
        cmd.addAll(Arrays.asList(env));
        cmd.addAll(List.of("sh", "-c", "TTS_ROOT=\"$1\"; . \"$TTS_ROOT/bin/jvm-env.sh\"; tts_cds_flags \"$2\" \"$3\" \"$4\"",
                "sh", ROOT.toString(), jdk, name, jar.toString()));
        return run(cmd);
    }

    /** The one flag of {@code flags} that starts with {@code prefix}, without the prefix; null when none does. */
    private static String flag(Run flags, String prefix) {
        return Arrays.stream(flags.out().strip().split(" ")).filter(f -> f.startsWith(prefix))
                .map(f -> f.substring(prefix.length())).findFirst().orElse(null);
    }

    /**
     * The JDK the launcher finds; the test is skipped where it has no base class-data archive (a HotSpot JDK ships
     * one, which the launcher's archives extend; others get no flags).
     */
    private static String hotSpotJdk() throws IOException, InterruptedException {
        Run found = jvmEnv("tts_find_jdk", "");
        assertThat(found.code()).as(found.err()).isZero();
        String jdk = found.out().strip();
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(Path.of(jdk, "lib/server/classes.jsa")),
                "the JDK found has no base class-data archive");
        return jdk;
    }

    /** The CLI on {@code jdk} with the project's JVM flags and the archive flags {@code flags}, from {@code classPath}. */
    private static List<String> cli(String jdk, Run flags, String classPath, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(jdk, "bin", "java").toString());
        cmd.addAll(Arrays.asList(jvmEnv("tts_jvm_flags", jdk).out().strip().split(" ")));
        cmd.addAll(Arrays.asList(flags.out().strip().split(" ")));
        cmd.addAll(List.of("-cp", classPath, TtsCli.class.getName()));
        cmd.addAll(Arrays.asList(args));
        return cmd;
    }

    /**
     * {@code classPath} with every directory in it replaced by a jar of its files, made under the test's temporary
     * directory (the entries' order kept).
     */
    private String jarsOnly(String classPath) throws IOException {
        List<String> out = new ArrayList<>();
        int n = 0;
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path dir = Path.of(entry);
            if (!Files.isDirectory(dir)) {
                out.add(entry);
                continue;
            }
            Path jar = tmp.resolve("classes-" + n++ + ".jar");
            try (var zip = new java.util.jar.JarOutputStream(Files.newOutputStream(jar));
                 var files = Files.walk(dir)) {
                for (Path f : (Iterable<Path>) files.filter(Files::isRegularFile).sorted()::iterator) {
                    zip.putNextEntry(new java.util.jar.JarEntry(dir.relativize(f).toString().replace('\\', '/')));
                    Files.copy(f, zip);
                    zip.closeEntry();
                }
            }
            out.add(jar.toString());
        }
        return String.join(java.io.File.pathSeparator, out);
    }

    /**
     * A jar laid out as the launcher's ({@code examples/target/tts-cli.jar}): no class of its own, the jars of
     * {@code classPath} in its manifest's Class-Path, relative to it (lib/, links to them here); made half an hour ago.
     */
    private Path launcherJar(String classPath) throws IOException {
        Path lib = Files.createDirectories(tmp.resolve("launcher/lib"));
        List<String> entries = new ArrayList<>();
        for (String entry : classPath.split(java.io.File.pathSeparator)) {
            Path link = lib.resolve(entries.size() + "-" + Path.of(entry).getFileName());
            Files.createSymbolicLink(link, Path.of(entry).toAbsolutePath());
            entries.add("lib/" + link.getFileName());
        }
        var manifest = new java.util.jar.Manifest();
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.MANIFEST_VERSION, "1.0");
        manifest.getMainAttributes().put(java.util.jar.Attributes.Name.CLASS_PATH, String.join(" ", entries));
        Path jar = tmp.resolve("launcher/app.jar");
        try (var zip = new java.util.jar.JarOutputStream(Files.newOutputStream(jar), manifest)) {
            // a manifest only
        }
        jar.toFile().setLastModified(System.currentTimeMillis() - 30 * 60_000L);
        return jar;
    }

    /** A file made {@code minutesAgo} minutes ago, as far as its modification time says. */
    private Path fileOf(Path path, int minutesAgo) throws IOException {
        Files.createDirectories(path.getParent());
        Files.writeString(path, "x");
        path.toFile().setLastModified(System.currentTimeMillis() - minutesAgo * 60_000L);
        return path;
    }

    /** A directory laid out as a HotSpot JDK with its base class-data archive, as far as the launcher looks. */
    private Path fakeJdk(String name) throws IOException {
        fileOf(tmp.resolve(name).resolve("lib/server/classes.jsa"), 60);
        fileOf(tmp.resolve(name).resolve("lib/modules"), 60);
        return tmp.resolve(name);
    }

    @Test
    void aRunMapsTheNewestUsableArchiveOrWritesOneOfItsOwnNeverOneAnotherRunWrites() throws Exception {
        Path cache = tmp.resolve("cache");
        Path dir = cache.resolve("localai-tts/jvm");
        String jdkA = fakeJdk("jdk-a").toString();
        String jdkB = fakeJdk("jdk-b").toString();
        Path jar = fileOf(tmp.resolve("tts-cli.jar"), 30);
        String home = "HOME=" + tmp;
        String xdg = "XDG_CACHE_HOME=" + cache;

        // none yet: this run writes its own at exit, named for the launcher, the JDK and the run
        Run first = cdsFlags(jdkA, "tts", jar, home, xdg);
        assertThat(first.code()).as(first.err()).isZero();
        String own = flag(first, "-XX:ArchiveClassesAtExit=");
        assertThat(own).isNotNull();
        assertThat(flag(first, "-XX:SharedArchiveFile=")).isNull();
        assertThat(Path.of(own).getParent()).isEqualTo(dir).isDirectory();
        assertThat(Path.of(own).getFileName().toString()).startsWith("tts-").endsWith(".jsa");
        assertThat(first.out()).contains("-Xlog:cds=off", "-Xlog:cds+dynamic=off", "-Xlog:cds=off:stderr",
                "-Xlog:cds+dynamic=off:stderr");
        // and it is told where, so that the CLI can mark the archive of a run that did no real work
        assertThat(flag(first, "-Dlocalai.tts.jvmArchive=")).isEqualTo(own);
        // another run while none exists writes another file: two JVMs never write one
        assertThat(flag(cdsFlags(jdkA, "tts", jar, home, xdg), "-XX:ArchiveClassesAtExit=")).isNotEqualTo(own);

        // once written (after the jar and the JDK), later runs map it, read only, and write nothing
        Path written = fileOf(Path.of(own), 1);
        Run later = cdsFlags(jdkA, "tts", jar, home, xdg);
        assertThat(flag(later, "-XX:SharedArchiveFile=")).isEqualTo(written.toString());
        assertThat(flag(later, "-XX:ArchiveClassesAtExit=")).isNull();
        // of two, the newest is mapped and the other deleted
        Path older = fileOf(dir.resolve(written.getFileName().toString().replace(".jsa", "") + "0.jsa"), 5);
        assertThat(flag(cdsFlags(jdkA, "tts", jar, home, xdg), "-XX:SharedArchiveFile=")).isEqualTo(written.toString());
        assertThat(older).doesNotExist();
        // another launcher or JDK has archives of its own
        assertThat(flag(cdsFlags(jdkA, "tts-server", jar, home, xdg), "-XX:ArchiveClassesAtExit=")).contains("/tts-server-");
        assertThat(flag(cdsFlags(jdkB, "tts", jar, home, xdg), "-XX:ArchiveClassesAtExit=")).isNotNull();
        // and so has another checkout's jar, even an older one: the JVM would run the newer archive's classes
        Path otherCheckout = fileOf(tmp.resolve("other/tts-cli.jar"), 60);
        assertThat(flag(cdsFlags(jdkA, "tts", otherCheckout, home, xdg), "-XX:SharedArchiveFile=")).isNull();
        assertThat(flag(cdsFlags(jdkA, "tts", otherCheckout, home, xdg), "-XX:ArchiveClassesAtExit="))
                .startsWith(dir.resolve("tts-").toString()).isNotEqualTo(own);
        assertThat(written).exists();

        // a rebuilt jar (or an updated JDK) makes it stale: deleted, and this run writes a new one
        fileOf(jar, 0);
        Run rebuilt = cdsFlags(jdkA, "tts", jar, home, xdg);
        assertThat(flag(rebuilt, "-XX:ArchiveClassesAtExit=")).isNotNull();
        assertThat(written).doesNotExist();
        Path fresh = fileOf(dir.resolve("tts-x.jsa"), 0); // not of this JDK's name: left alone
        fileOf(Path.of(jdkA, "lib/modules"), 0);
        assertThat(flag(cdsFlags(jdkA, "tts", jar, home, xdg), "-XX:ArchiveClassesAtExit=")).isNotNull();
        assertThat(fresh).exists();

        // without XDG_CACHE_HOME: under ~/.cache
        assertThat(flag(cdsFlags(jdkA, "tts", jar, home), "-XX:ArchiveClassesAtExit="))
                .startsWith(tmp.resolve(".cache/localai-tts/jvm/tts-").toString());
        // no flags at all: turned off, a JDK without a base archive (not HotSpot's), no cache directory to be had, a
        // path the callers' split would break, or no home
        assertThat(cdsFlags(jdkA, "tts", jar, home, xdg, "TTS_JVM_CDS=off").out()).isBlank();
        Path bare = Files.createDirectories(tmp.resolve("openj9/lib/server")).getParent().getParent();
        assertThat(cdsFlags(bare.toString(), "tts", jar, home, xdg).out()).isBlank();
        Path file = Files.writeString(tmp.resolve("a-file"), "x");
        Run blocked = cdsFlags(jdkA, "tts", jar, home, "XDG_CACHE_HOME=" + file);
        assertThat(blocked.code()).isZero();
        assertThat(blocked.out()).isBlank();
        assertThat(blocked.err()).isBlank();
        assertThat(cdsFlags(jdkA, "tts", jar, home, "XDG_CACHE_HOME=" + tmp.resolve("with space")).out()).isBlank();
        assertThat(cdsFlags(jdkA, "tts", jar).out()).as("no HOME").isBlank();
    }

    @Test
    void theCliWritesItsArchiveAtTheFirstExitThenMapsItSilently() throws Exception {
        String jdk = hotSpotJdk();
        // Java 25+: an AOT cache (classes linked, methods' profiles), recorded at the first exit and assembled by the
        // next start; before: a dynamic class-data archive, written at the first exit
        boolean aot = Integer.parseInt(jvmEnv("tts_java_major", jdk).out().strip()) >= 25;
        String map = aot ? "-XX:AOTCache=" : "-XX:SharedArchiveFile=";
        Path cache = tmp.resolve("cache");
        // the CLI itself speaks, from a jar like the launcher's (a class-data archive or AOT cache takes no class
        // from a directory): Java 25 warned of adapters its cache could not link only in a run that had loaded
        // enough to cache them
        Path jar = launcherJar(jarsOnly(System.getProperty("java.class.path")));
        String classPath = jar.toString();
        Path wav = tmp.resolve("x.wav");
        Path archive = null;
        long writtenAt = 0;
        // the children read the build's probe file: settled, so that none pauses to measure the CPU and says so
        dev.localai.tts.core.tuning.SettledProbe.settle();
        for (int i = 0; i < 3; i++) {
            Run flags = cdsFlags(jdk, "tts", jar, "HOME=" + tmp, "XDG_CACHE_HOME=" + cache);
            assertThat(flags.err()).as("the launcher says nothing either").isEmpty();
            Run r = run(cli(jdk, flags, classPath, "speak", "--model", TinyModel.dir().toString(), "--text", "Hi.",
                    "--out", wav.toString(), "--max-tokens", "5", "--device", "cpu", "--threads", "1", "--progress",
                    "off"));
            assertThat(r.code()).as(r.err()).isZero();
            assertThat(wav).isRegularFile();
            // nothing on stdout, where `tts speak --out -` writes its audio
            assertThat(r.out()).isEmpty();
            // and on stderr the CLI's one line, at every run: none of the JVM's notes on its archive (unified
            // logging's "[0.105s][warning][aot,codecache,stubs]", a one-step AOT cache's "Launching child process"
            // and "Picked up JAVA_TOOL_OPTIONS" with the whole command line), nor a WARNING
            assertThat(r.err().strip()).as(r.err()).startsWith("wrote ").doesNotContain("\n");
            List<Path> archives;
            try (var files = Files.list(cache.resolve("localai-tts/jvm"))) {
                archives = files.toList();
            }
            if (i == 0) {
                String own = flag(flags, "-Dlocalai.tts.jvmArchive=");
                assertThat(own).as(flags.out()).isNotNull();
                assertThat(flag(flags, map)).isNull();
                // what the first run left: the archive, or the recording of a cache
                Path left = Path.of(aot ? own + ".config" : own);
                assertThat(archives).as("written at the first exit").containsExactly(left);
                if (!aot) {
                    archive = left;
                    writtenAt = Files.getLastModifiedTime(archive).toMillis();
                }
            } else {
                if (archive == null) {
                    // the second start assembled the cache from the recording, which is gone
                    assertThat(archives).hasSize(1);
                    archive = archives.get(0);
                    assertThat(archive.getFileName().toString()).endsWith(".aot");
                    writtenAt = Files.getLastModifiedTime(archive).toMillis();
                }
                assertThat(flag(flags, map)).as("later runs map it").isEqualTo(archive.toString());
                assertThat(flag(flags, "-Dlocalai.tts.jvmArchive=")).as("and write none").isNull();
                assertThat(archives).containsExactly(archive);
                assertThat(Files.getLastModifiedTime(archive).toMillis()).as("not written again").isEqualTo(writtenAt);
            }
        }
        if (aot) {
            // the cache is one the JVM takes: a run that must map it (-XX:AOTMode=on) starts and speaks
            Run flags = cdsFlags(jdk, "tts", jar, "HOME=" + tmp, "XDG_CACHE_HOME=" + cache);
            List<String> cmd = cli(jdk, flags, classPath, "speak", "--model", TinyModel.dir().toString(), "--text",
                    "Hi.", "--out", wav.toString(), "--max-tokens", "5", "--device", "cpu", "--threads", "1",
                    "--progress", "off");
            cmd.add(1, "-XX:AOTMode=on");
            Run r = run(cmd);
            assertThat(r.code()).as(r.err()).isZero();
        }
    }

    @Test
    void aJdk25GetsAnAotCacheInsteadOfAClassDataArchive() throws Exception {
        Path cache = tmp.resolve("cache");
        Path dir = cache.resolve("localai-tts/jvm");
        Path jdk = fakeJdk("jdk-25");
        // a JDK says its version in its release file, which the launcher reads rather than start a JVM to ask
        Files.writeString(jdk.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"25.0.1\"\n");
        // its java assembles a cache as the real one does (-XX:AOTMode=create), noting its arguments; FAIL makes it
        // fail
        Path java = jdk.resolve("bin/java");
        Files.createDirectories(java.getParent());
        Files.writeString(java, """
                #!/bin/sh
                echo "$*" >> "$(dirname "$0")/calls"
                [ ! -e "$(dirname "$0")/FAIL" ] || exit 1
                for a; do case "$a" in -XX:AOTCache=*) echo cache > "${a#-XX:AOTCache=}" ;; esac; done
                echo "a note the launcher must not pass on"; echo "nor this" >&2
                """);
        assertThat(java.toFile().setExecutable(true)).isTrue();
        java.toFile().setLastModified(System.currentTimeMillis() - 60 * 60_000L);
        assertThat(jvmEnv("tts_java_major", jdk.toString()).out().strip()).isEqualTo("25");
        Path jar = fileOf(tmp.resolve("tts-cli.jar"), 30);
        String home = "HOME=" + tmp;
        String xdg = "XDG_CACHE_HOME=" + cache;

        // none yet: this run records what the cache needs at exit, silently (a one-step -XX:AOTCacheOutput printed
        // six lines at exit that no flag turns off)
        Run first = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(first.err()).isEmpty();
        String own = flag(first, "-Dlocalai.tts.jvmArchive=");
        assertThat(own).as(first.out()).startsWith(dir.resolve("tts-speak-").toString()).endsWith(".aot");
        assertThat(flag(first, "-XX:AOTConfiguration=")).isEqualTo(own + ".config");
        assertThat(first.out()).contains("-XX:AOTMode=record", "-XX:+UnlockDiagnosticVMOptions",
                "-XX:-DisplayVMOutput", "-Xlog:aot*=off", "-Xlog:cds*=off", "-Xlog:aot*=off:stderr",
                "-Xlog:cds*=off:stderr");
        assertThat(first.out()).doesNotContain("AOTCacheOutput", "-XX:AOTCache=", "ArchiveClassesAtExit");
        assertThat(jdk.resolve("bin/calls")).as("nothing to assemble yet").doesNotExist();

        // the next start assembles the recording into the cache, says nothing of it, and maps the cache
        Path recorded = fileOf(Path.of(own + ".config"), 1);
        Path stale = fileOf(Path.of(own.replace(".aot", ".jsa")), 2); // an older launcher's archive for this JDK
        Run later = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(later.err()).isEmpty();
        assertThat(flag(later, "-XX:AOTCache=")).as(later.out()).isEqualTo(own);
        assertThat(Path.of(own)).hasContent("cache");
        assertThat(recorded).doesNotExist();
        assertThat(later.out()).doesNotContain("AOTMode", "jvmArchive", "DisplayVMOutput");
        String call = Files.readString(jdk.resolve("bin/calls")).strip();
        assertThat(call).contains("-XX:AOTMode=create", "-XX:AOTConfiguration=" + recorded,
                        "-XX:AOTCache=" + own + ".part-")
                .endsWith("-cp " + jar);
        assertThat(stale).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.toList()).containsExactly(Path.of(own));
        }
        // and once made, it is mapped: nothing assembled again
        Files.delete(jdk.resolve("bin/calls"));
        assertThat(flag(cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg), "-XX:AOTCache=")).isEqualTo(own);
        assertThat(jdk.resolve("bin/calls")).doesNotExist();

        // a rebuilt jar makes it stale, and a recording older than the jar too
        fileOf(jar, 0);
        Path oldRecording = fileOf(dir.resolve("tts-speak-x-7.aot.config"), 5);
        Run rebuilt = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        String next = flag(rebuilt, "-Dlocalai.tts.jvmArchive=");
        assertThat(flag(rebuilt, "-XX:AOTConfiguration=")).isEqualTo(next + ".config");
        assertThat(Path.of(own)).doesNotExist();
        assertThat(jdk.resolve("bin/calls")).doesNotExist();
        assertThat(oldRecording).exists(); // not of this JDK's name: left alone

        // a marked recording (its run only printed help, or failed) is deleted with its mark, unassembled
        Path marked = fileOf(Path.of(next + ".config"), 0);
        Path mark = fileOf(Path.of(next + ".discard"), 0);
        Run again = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(flag(again, "-XX:AOTCache=")).isNull();
        assertThat(flag(again, "-XX:AOTMode=")).isEqualTo("record");
        assertThat(marked).doesNotExist();
        assertThat(mark).doesNotExist();
        assertThat(jdk.resolve("bin/calls")).doesNotExist();
        // a mark whose run wrote nothing goes too
        String prefix = Path.of(next).getFileName().toString().replaceAll("-\\d+\\.aot$", "");
        Path orphan = fileOf(dir.resolve(prefix + "-2147483601.aot.discard"), 0);
        cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(orphan).doesNotExist();

        // a recording whose run is still alive (this JVM's pid) is left to it: it writes the file at exit
        long alive = ProcessHandle.current().pid();
        Path running = fileOf(dir.resolve(prefix + "-" + alive + ".aot.config"), 0);
        Run meanwhile = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(flag(meanwhile, "-XX:AOTMode=")).isEqualTo("record");
        assertThat(running).exists();
        assertThat(jdk.resolve("bin/calls")).doesNotExist();
        Files.delete(running);

        // (the pids below are above any system's pid_max: no process has them)
        // of two recordings, the newest is assembled and the other deleted; a part a dead start left goes too
        Path older = fileOf(dir.resolve(prefix + "-2147483611.aot.config"), 0);
        older.toFile().setLastModified(System.currentTimeMillis() - 5_000);
        Path newer = fileOf(dir.resolve(prefix + "-2147483612.aot.config"), 0);
        Path part = fileOf(dir.resolve(prefix + "-2147483610.aot.part-2147483646"), 0);
        Run two = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(flag(two, "-XX:AOTCache=")).isEqualTo(dir.resolve(prefix + "-2147483612.aot").toString());
        assertThat(older).doesNotExist();
        assertThat(newer).doesNotExist();
        assertThat(part).doesNotExist();
        assertThat(Files.readAllLines(jdk.resolve("bin/calls"))).hasSize(1);

        // a JVM that fails to assemble one: the recording is deleted, nothing half-written is left, and this run
        // records anew
        Files.delete(dir.resolve(prefix + "-2147483612.aot"));
        Files.writeString(jdk.resolve("bin/FAIL"), "");
        Path failing = fileOf(dir.resolve(prefix + "-2147483613.aot.config"), 0);
        Run failed = cdsFlags(jdk.toString(), "tts-speak", jar, home, xdg);
        assertThat(failed.code()).isZero();
        assertThat(failed.err()).isEmpty();
        assertThat(flag(failed, "-XX:AOTCache=")).isNull();
        assertThat(flag(failed, "-XX:AOTMode=")).isEqualTo("record");
        assertThat(failing).doesNotExist();
        try (var files = Files.list(dir)) {
            assertThat(files.filter(f -> f.getFileName().toString().startsWith(prefix)).toList()).isEmpty();
        }
    }

    @Test
    void anArchiveWrittenByAHelpRunIsWrittenAgainByTheNextRun() throws Exception {
        String jdk = hotSpotJdk();
        Path cache = tmp.resolve("cache");
        Path jar = fileOf(tmp.resolve("app.jar"), 30);
        String classPath = jarsOnly(System.getProperty("java.class.path"));
        Run flags = cdsFlags(jdk, "tts-speak", jar, "HOME=" + tmp, "XDG_CACHE_HOME=" + cache);
        String own = flag(flags, "-Dlocalai.tts.jvmArchive=");
        assertThat(own).as(flags.out()).isNotNull();
        Run help = run(cli(jdk, flags, classPath, "speak", "--help"));
        assertThat(help.code()).as(help.err()).isZero();
        assertThat(help.out()).contains("Usage: tts speak");
        // the JVM wrote the archive (Java 25: the recording of a cache) at exit, and the CLI marked it: a help run
        // loads few of the classes speak needs
        boolean aot = flags.out().contains("-XX:AOTMode=record");
        Path left = Path.of(aot ? own + ".config" : own);
        assertThat(left).exists();
        assertThat(Path.of(own + ".discard")).exists();
        Run next = cdsFlags(jdk, "tts-speak", jar, "HOME=" + tmp, "XDG_CACHE_HOME=" + cache);
        assertThat(flag(next, "-XX:AOTCache=")).isNull();
        assertThat(flag(next, "-XX:SharedArchiveFile=")).isNull();
        assertThat(flag(next, "-Dlocalai.tts.jvmArchive=")).as(next.out()).isNotNull().isNotEqualTo(own);
        assertThat(left).doesNotExist();
        assertThat(Path.of(own)).doesNotExist();
        assertThat(Path.of(own + ".discard")).doesNotExist();
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
