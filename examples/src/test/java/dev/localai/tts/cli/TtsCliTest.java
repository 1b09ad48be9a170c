package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.pickle.CondsPt;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.hub.FakeHub;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class TtsCliTest {
    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    Result run(Map<String, String> env, String... args) {
        CommandLine cl = TtsCli.commandLine(env, tmp.resolve("home"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Result(code, out.toString(), err.toString());
    }

    static int closedPort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void makeTinyCheckpointWritesTheOfficialFiles() {
        Path dir = tmp.resolve("tiny");
        Result r = run(Map.of(), "make-tiny-checkpoint", "--out", dir.toString(), "--seed", "3");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("seed 3").contains(dir.toString());
        for (String f : ChatterboxTurboFiles.REQUIRED) {
            assertThat(dir.resolve(f)).as(f).isRegularFile();
        }
        try (SafeTensors t3 = SafeTensors.open(dir.resolve("t3_turbo_v1.safetensors"))) {
            assertThat(t3.keys()).hasSize(35).contains("tfmr.h.1.mlp.c_fc.weight", "speech_head.weight");
        }
        assertThat(CondsPt.read(dir.resolve("conds.pt")).promptFeat().shape()).containsExactly(1, 100, 80);
    }

    @Test
    void benchS3genRefusesAnUnknownConvolutionLayoutBeforeAnyWork() {
        Result r = run(Map.of(), "bench", "s3gen", "--conv-layout", "contiguous,sideways");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("--conv-layout must be auto, contiguous or channels-last: sideways")
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(r.out()).as("nothing measured, not even the machine line").isEmpty();
    }

    @Test
    void benchT3RefusesABadCompetingLoadBeforeAnyWork() {
        for (String load : new String[] {"5", "20/5", "0/10", "5/2000", "five/20"}) {
            Result r = run(Map.of(), "bench", "t3", "--competing-load", load);
            assertThat(r.code()).as(load).isEqualTo(TtsCli.EXIT_FAILURE);
            assertThat(r.err()).as(load).startsWith("tts: error: --competing-load").contains(load)
                    .doesNotContain("\tat ");
            assertThat(r.out()).as("nothing measured, not even the machine line").isEmpty();
        }
    }

    @Test
    void benchRefusesMoreThreadsThanCoresBeforeAnyWork() {
        int cores = Runtime.getRuntime().availableProcessors();
        for (String bench : new String[] {"s3gen", "t3"}) {
            Result r = run(Map.of(), "bench", bench, "--threads", String.valueOf(cores + 1));
            assertThat(r.code()).as(bench).isEqualTo(TtsCli.EXIT_FAILURE);
            assertThat(r.err()).as(bench).startsWith("tts: error: threads must be 0 (automatic) or from 1 to "
                    + cores).doesNotContain("\tat ");
            assertThat(r.out()).as("nothing measured, not even the machine line").isEmpty();
        }
    }

    @Test
    void downloadOfflineFailsFastWithAClearMessage() {
        Result r = run(Map.of("HF_HOME", tmp.resolve("hf").toString()), "download", "--offline");
        assertThat(r.code()).isEqualTo(TtsCli.EXIT_HUB_UNAVAILABLE);
        assertThat(r.err()).startsWith("tts: error: offline mode").contains("ResembleAI/chatterbox-turbo")
                .doesNotContain("Exception").doesNotContain("\tat ");

        Result env = run(Map.of("HF_HOME", tmp.resolve("hf").toString(), "HF_HUB_OFFLINE", "1"), "download");
        assertThat(env.code()).isEqualTo(TtsCli.EXIT_HUB_UNAVAILABLE);
        assertThat(env.err()).contains("offline mode");
    }

    @Test
    void downloadFromAnUnreachableHubFailsFast() throws IOException {
        Map<String, String> env = Map.of("HF_HOME", tmp.resolve("hf").toString(),
                "HF_ENDPOINT", "http://127.0.0.1:" + closedPort());
        Result r = run(env, "download", "--revision", "main");
        assertThat(r.code()).isEqualTo(TtsCli.EXIT_HUB_UNAVAILABLE);
        assertThat(r.err()).contains("cannot reach the model hub at http://127.0.0.1:")
                .doesNotContain("\tat ");

        Result verbose = run(env, "download", "--verbose");
        assertThat(verbose.code()).isEqualTo(TtsCli.EXIT_HUB_UNAVAILABLE);
        assertThat(verbose.err()).contains("HubException").contains("\tat ");
    }

    @Test
    void downloadFromAFakeHubFillsTheCacheThenWorksOffline() throws IOException {
        try (FakeHub hub = new FakeHub(ChatterboxTurboFiles.REPO)) {
            for (String f : ChatterboxTurboFiles.REQUIRED) {
                hub.put(f, (f + " content").getBytes(StandardCharsets.UTF_8));
            }
            Map<String, String> env = Map.of("HF_HOME", tmp.resolve("hf").toString(), "HF_TOKEN", "x");
            Result r = run(env, "download", "--endpoint", hub.endpoint().toString());
            assertThat(r.code()).as(r.err()).isZero();
            Path snap = tmp.resolve("hf/hub/models--ResembleAI--chatterbox-turbo/snapshots/" + FakeHub.COMMIT);
            assertThat(r.out().trim()).isEqualTo(snap.toString());
            assertThat(Files.readString(snap.resolve("conds.pt"))).isEqualTo("conds.pt content");
            assertThat(r.err()).contains("t3_turbo_v1.safetensors").contains("100%");

            Result off = run(env, "download", "--offline");
            assertThat(off.code()).as(off.err()).isZero();
            assertThat(off.out().trim()).isEqualTo(snap.toString());
        }
    }

    @Test
    void componentDispatchesToRegisteredRunners() throws IOException {
        Path model = Files.createDirectories(tmp.resolve("m"));
        Path in = Files.writeString(tmp.resolve("in.safetensors"), "x");
        Path out = tmp.resolve("out.safetensors");

        Result unknown = run(Map.of(), "component", "nonsense", "--model", model.toString(), "--in", in.toString(),
                "--out", out.toString());
        assertThat(unknown.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(unknown.err()).contains("unknown stage 'nonsense'").contains("t3_prefill");

        Result missingIn = run(Map.of(), "component", "hift", "--model", model.toString(), "--in",
                tmp.resolve("none").toString(), "--out", out.toString());
        assertThat(missingIn.err()).contains("input file").contains("does not exist");

        ComponentCommand.register("hift", (m, i, o) -> Files.writeString(o, m.getFileName() + ":" + Files.readString(i)));
        try {
            Result ok = run(Map.of(), "component", "hift", "--model", model.toString(), "--in", in.toString(),
                    "--out", out.toString());
            assertThat(ok.code()).as(ok.err()).isZero();
            assertThat(Files.readString(out)).isEqualTo("m:x");
        } finally {
            ComponentCommand.unregister("hift");
        }
    }

    /**
     * Every command's help renders as written: picocli formats descriptions with {@code String.format}, so a bare
     * percent sign ("40% less") made it print "[picocli WARN] Could not format ..." three times above {@code tts speak
     * --help} and show the raw text.
     */
    @Test
    void everyCommandsHelpRendersWithoutAFormatWarning() {
        java.io.PrintStream before = System.err;
        java.io.ByteArrayOutputStream captured = new java.io.ByteArrayOutputStream();
        java.util.List<String> usages = new java.util.ArrayList<>();
        try {
            System.setErr(new java.io.PrintStream(captured, true, java.nio.charset.StandardCharsets.UTF_8));
            java.util.ArrayDeque<CommandLine> todo = new java.util.ArrayDeque<>();
            todo.add(TtsCli.commandLine(Map.of(), tmp.resolve("home")));
            while (!todo.isEmpty()) {
                CommandLine c = todo.poll();
                usages.add(c.getUsageMessage());
                todo.addAll(c.getSubcommands().values());
            }
        } finally {
            System.setErr(before);
        }
        assertThat(usages).hasSizeGreaterThan(5);
        assertThat(captured.toString(java.nio.charset.StandardCharsets.UTF_8)).doesNotContain("picocli WARN");
        assertThat(String.join("\n", usages)).doesNotContain("%n").contains("about 40% less flow");
    }

    @Test
    void usageErrorsAndHelp() {
        Result missing = run(Map.of(), "make-tiny-checkpoint");
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).isEqualTo("tts: error: Missing required option: '--out=DIR'; see "
                + "'tts make-tiny-checkpoint --help'" + System.lineSeparator());

        Result noOut = run(Map.of(), "speak", "--text", "Hi.");
        assertThat(noOut.code()).isEqualTo(2);
        assertThat(noOut.err().strip().lines()).as("one line, not the whole usage").hasSize(1);
        assertThat(noOut.err()).contains("Missing required option: '--out=FILE'").contains("tts speak --help");

        Result typo = run(Map.of(), "speak", "--txt", "Hi.", "--out", "x.wav");
        assertThat(typo.code()).isEqualTo(2);
        assertThat(typo.err().strip().lines()).hasSize(1);
        assertThat(typo.err()).contains("Unknown option").contains("--txt").contains("tts speak --help");

        Result badValue = run(Map.of(), "speak", "--text", "Hi.", "--out", "x.wav", "--speed", "fast");
        assertThat(badValue.code()).isEqualTo(2);
        assertThat(badValue.err().strip().lines()).hasSize(1);
        assertThat(badValue.err()).contains("--speed").contains("fast");

        Result help = run(Map.of(), "--help");
        assertThat(help.code()).isZero();
        assertThat(help.out()).contains("speak").contains("voices").contains("make-tiny-checkpoint")
                .contains("download").contains("component").contains("bench");
    }
}
