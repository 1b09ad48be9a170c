package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.testing.Golden;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tts voices add|list|rename|delete} and using a stored voice with {@code speak}. */
class VoicesCommandTest {
    @TempDir
    Path tmp;

    private Cli.Result tts(String... args) {
        return Cli.run(tmp.resolve("home"), Map.of(), "", args);
    }

    @Test
    void addListSpeakRenameDelete() throws IOException {
        Path clip = SpeakCommandTest.referenceClip(tmp);
        String lib = tmp.resolve("lib").toString();
        String model = TinyModel.dir().toString();

        Cli.Result add = tts("voices", "add", "alice", clip.toString(), "--model", model, "--voices", lib);
        assertThat(add.code()).as(add.err()).isZero();
        assertThat(add.out()).contains("added voice 'alice' (ref.wav");

        Cli.Result dup = tts("voices", "add", "Alice", clip.toString(), "--model", model, "--voices", lib);
        assertThat(dup.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(dup.err()).contains("already exists").doesNotContain("\tat ");

        Cli.Result list = tts("voices", "list", "--voices", lib);
        assertThat(list.code()).as(list.err()).isZero();
        assertThat(list.out()).contains("alice").contains("ref.wav");
        assertThat(list.out().lines().findFirst()).hasValueSatisfying(first ->
                assertThat(first).startsWith("default ").contains("built-in"));

        Cli.Result unknown = tts("speak", "--model", model, "--voices", lib, "--voice", "carol", "--text", "Hi.",
                "--out", tmp.resolve("carol.wav").toString());
        assertThat(unknown.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(unknown.err().strip().lines()).hasSize(1);
        assertThat(unknown.err()).contains("Unknown voice: 'carol'").contains("Available voices: default (built-in), "
                + "alice").doesNotContain("\tat ");

        Path out = tmp.resolve("alice.wav");
        Cli.Result speak = tts("speak", "--model", model, "--voices", lib, "--voice", "alice", "--text", "Hi.",
                "--out", out.toString(), "--max-tokens", "10", "--device", "cpu");
        assertThat(speak.code()).as(speak.err()).isZero();
        SpeakCommandTest.assertWav24kMono(out);

        Cli.Result rename = tts("voices", "rename", "alice", "bob", "--voices", lib);
        assertThat(rename.code()).as(rename.err()).isZero();
        assertThat(tts("voices", "list", "--voices", lib).out()).contains("bob").doesNotContain("alice");

        Cli.Result delete = tts("voices", "delete", "bob", "--voices", lib);
        assertThat(delete.code()).as(delete.err()).isZero();
        assertThat(tts("voices", "list", "--voices", lib).out()).contains("no library voices in")
                .startsWith("default");

        Cli.Result again = tts("voices", "delete", "bob", "--voices", lib);
        assertThat(again.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(again.err()).contains("no voice named 'bob'");
    }

    @Test
    void badNamesAndClipsAreRefusedClearly() throws IOException {
        String lib = tmp.resolve("lib").toString();
        Cli.Result name = tts("voices", "add", "../evil", "x.wav", "--model", TinyModel.dir().toString(), "--voices", lib);
        assertThat(name.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(name.err()).contains("invalid voice name").doesNotContain("\tat ");

        Path noise = Files.write(tmp.resolve("short.wav"), new byte[] {1, 2, 3, 4});
        Cli.Result clip = tts("voices", "add", "carol", noise.toString(), "--model", TinyModel.dir().toString(),
                "--voices", lib);
        assertThat(clip.code()).isEqualTo(TtsCli.EXIT_FAILURE);
        assertThat(clip.err()).startsWith("tts: error: ").doesNotContain("\tat ");
        assertThat(tts("voices", "list", "--voices", lib).out()).doesNotContain("carol");

        Cli.Result builtin = tts("voices", "add", "default", noise.toString(), "--model", TinyModel.dir().toString(),
                "--voices", lib);
        assertThat(builtin.err()).contains("built-in voice");
    }

    @Test
    void theDefaultLibraryFollowsXdgDataHome() {
        Cli.Result list = Cli.run(tmp.resolve("home"), Map.of("XDG_DATA_HOME", tmp.resolve("data").toString()), "",
                "voices", "list");
        assertThat(list.code()).isZero();
        assertThat(list.out()).contains(tmp.resolve("data/localai-tts/voices").toString())
                .as("the built-in voice is listed even without a library").startsWith("default ");
        Cli.Result home = tts("voices", "list");
        assertThat(home.out()).contains(tmp.resolve("home/.local/share/localai-tts/voices").toString());
    }
}
