package dev.localai.tts.core.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A run marks the JVM archive it writes to be discarded: {@code NAME.discard}, which the launcher reads. */
class JvmArchiveTest {
    @TempDir
    Path tmp;

    @Test
    void theMarkSitsBesideTheArchive() {
        Path archive = tmp.resolve("tts-speak-1-2.aot");
        JvmArchive.discard(archive.toString());
        assertThat(tmp.resolve("tts-speak-1-2.aot.discard")).isRegularFile();
    }

    @Test
    void aRunWritingNoArchiveMarksNothingAndAMarkThatCannotBeWrittenIsNoError() throws Exception {
        JvmArchive.discard((String) null);
        JvmArchive.discard(" ");
        assertThatCode(() -> JvmArchive.discard(tmp.resolve("no/such/dir/x.aot").toString()))
                .doesNotThrowAnyException();
        try (var files = Files.list(tmp)) {
            assertThat(files).isEmpty();
        }
        // this test JVM writes no archive (the launcher did not name one)
        assertThat(System.getProperty(JvmArchive.PROPERTY)).isNull();
        JvmArchive.discard();
    }
}
