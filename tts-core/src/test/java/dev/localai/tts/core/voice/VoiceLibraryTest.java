package dev.localai.tts.core.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.audio.ClipTooShortException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VoiceLibraryTest {

    @TempDir
    Path tmp;

    final AtomicInteger computed = new AtomicInteger();

    /** Stand-in for the encoders: a deterministic function of the clip bytes; "short" clips are refused. */
    final Function<Path, Conditionals> compute = clip -> {
        computed.incrementAndGet();
        try {
            byte[] b = Files.readAllBytes(clip);
            if (b.length < 4) {
                throw new ClipTooShortException(1.0, 5.0);
            }
            return ConditionalsTest.sample(java.util.Arrays.hashCode(b));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    };

    Path clip(String name, String content) throws Exception {
        Path p = tmp.resolve(name);
        Files.writeString(p, content);
        return p;
    }

    VoiceLibrary lib(String revision) {
        return new VoiceLibrary(tmp.resolve("voices"), revision, compute);
    }

    @Test
    void addListRenameDelete() throws Exception {
        VoiceLibrary lib = lib("rev1");
        assertThat(lib.list()).isEmpty();
        VoiceLibrary.Voice v = lib.add("alice", clip("Alice Ref.WAV", "alice audio"));
        assertThat(v.name()).isEqualTo("alice");
        assertThat(v.clip().getFileName().toString()).isEqualTo("clip.wav");
        assertThat(v.originalFileName()).isEqualTo("Alice Ref.WAV");
        assertThat(computed).hasValue(1);
        lib.add("bob-2", clip("b.mp3", "bob audio"));
        assertThat(lib.list()).extracting(VoiceLibrary.Voice::name).containsExactly("alice", "bob-2");

        assertThatThrownBy(() -> lib.add("ALICE", clip("c.wav", "other"))).isInstanceOf(VoiceLibraryException.class)
                .hasMessageContaining("already exists");
        assertThatThrownBy(() -> lib.rename("alice", "Bob-2")).isInstanceOf(VoiceLibraryException.class);

        lib.rename("alice", "carol");
        assertThat(lib.get("alice")).isEmpty();
        assertThat(lib.get("carol")).isPresent();
        lib.rename("carol", "Carol"); // case-only rename
        assertThat(lib.list()).extracting(VoiceLibrary.Voice::name).containsExactly("bob-2", "Carol");

        assertThat(lib.delete("carol")).isTrue();
        assertThat(lib.delete("carol")).isFalse();
        assertThat(lib.list()).extracting(VoiceLibrary.Voice::name).containsExactly("bob-2");
        try (var s = Files.list(lib.root())) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("bob-2"); // no staging/trash left
        }
    }

    @Test
    void conditionalsAreComputedOnceAndReusedAcrossRestarts() throws Exception {
        VoiceLibrary lib = lib("rev1");
        lib.add("alice", clip("a.wav", "alice audio"));
        Conditionals c1 = lib.conditionals("alice");
        Conditionals c2 = lib.conditionals("ALICE");
        assertThat(c2).isSameAs(c1);
        assertThat(computed).hasValue(1);
        // a new process: read from the cache file, not recomputed
        VoiceLibrary again = lib("rev1");
        assertThat(again.conditionals("alice")).isEqualTo(c1);
        assertThat(computed).hasValue(1);
        // another model revision: recomputed once and cached beside
        VoiceLibrary rev2 = lib("rev2");
        rev2.conditionals("alice");
        rev2.conditionals("alice");
        assertThat(computed).hasValue(2);
        try (var s = Files.list(lib.root().resolve("alice/conds"))) {
            assertThat(s.count()).isEqualTo(2);
        }
        // renaming keeps the cache
        rev2.rename("alice", "alicia");
        assertThat(lib("rev2").conditionals("alicia")).isNotNull();
        assertThat(computed).hasValue(2);
    }

    @Test
    void adhocClipsAreCachedByContent() throws Exception {
        VoiceLibrary lib = lib("rev1");
        Path a = clip("x.wav", "some clip");
        Conditionals c = lib.conditionalsForClip(a);
        assertThat(lib("rev1").conditionalsForClip(clip("y.wav", "some clip"))).isEqualTo(c);
        assertThat(computed).hasValue(1);
        assertThat(lib.list()).isEmpty(); // not a named voice
    }

    @Test
    void badClipsAreRefusedAndNothingIsStored() throws Exception {
        VoiceLibrary lib = lib("rev1");
        assertThatThrownBy(() -> lib.add("short", clip("s.wav", "ab"))).isInstanceOf(ClipTooShortException.class);
        assertThat(lib.list()).isEmpty();
        try (var s = Files.list(lib.root())) {
            assertThat(s.count()).isZero();
        }
    }

    @Test
    void namesAreValidatedAndNeverPaths() throws Exception {
        VoiceLibrary lib = lib("rev1");
        Path c = clip("a.wav", "alice audio");
        for (String bad : new String[] {"", "../x", "a/b", "a\\b", ".hidden", "-x", "with space", "con", "NUL",
                "x".repeat(65), "é", "a.b", null}) {
            assertThatThrownBy(() -> lib.add(bad, c)).as(String.valueOf(bad))
                    .isInstanceOf(IllegalArgumentException.class);
        }
        assertThat(VoiceLibrary.isValidName("Narrator_2")).isTrue();
        assertThat(VoiceLibrary.isValidName("x".repeat(64))).isTrue();
        assertThatThrownBy(() -> lib.get("../voices")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void corruptEntriesAreReportedAndSkipped() throws Exception {
        VoiceLibrary lib = lib("rev1");
        lib.add("good", clip("g.wav", "good audio"));
        lib.add("noclip", clip("n.wav", "noclip audio"));
        lib.add("badmeta", clip("b.wav", "badmeta audio"));
        lib.add("badcache", clip("c.wav", "badcache audio"));
        Path root = lib.root();
        Files.delete(root.resolve("noclip/clip.wav"));
        Files.writeString(root.resolve("badmeta/voice.properties"), "garbage\\u12");
        try (var s = Files.list(root.resolve("badcache/conds"))) {
            Path f = s.findFirst().orElseThrow();
            Files.write(f, new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9, 9});
        }
        Files.writeString(root.resolve("stray.txt"), "x");
        Files.createDirectories(root.resolve("bad name"));

        VoiceLibrary fresh = lib("rev1");
        assertThat(fresh.list()).extracting(VoiceLibrary.Voice::name).containsExactlyInAnyOrder("good", "badcache");
        assertThat(fresh.problems()).extracting(VoiceLibrary.Problem::entry)
                .contains("noclip", "badmeta", "stray.txt", "bad name");
        assertThatThrownBy(() -> fresh.conditionals("noclip")).isInstanceOf(VoiceLibraryException.class)
                .hasMessageContaining("corrupt");
        assertThatThrownBy(() -> fresh.conditionals("nobody")).isInstanceOf(VoiceLibraryException.class)
                .hasMessageContaining("no voice");

        int before = computed.get();
        Conditionals c = fresh.conditionals("badcache"); // unreadable cache: reported, recomputed, rewritten
        assertThat(computed.get()).isEqualTo(before + 1);
        assertThat(fresh.problems()).anySatisfy(p -> assertThat(p.reason()).contains("recomputing"));
        assertThat(lib("rev1").conditionals("badcache")).isEqualTo(c);
        assertThat(computed.get()).isEqualTo(before + 1);
        // a corrupt entry can still be deleted
        assertThat(fresh.delete("noclip")).isTrue();
    }
}
