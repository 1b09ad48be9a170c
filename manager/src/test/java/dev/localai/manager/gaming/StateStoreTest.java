package dev.localai.manager.gaming;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The persisted gaming flag fails safe: whatever cannot be read as a boolean means gaming ON. */
class StateStoreTest {
    @TempDir
    Path tmp;

    @ParameterizedTest(name = "[{0}] means gaming ON")
    @ValueSource(strings = {"", "   ", "[]", "{}", "{\"gaming_mode\":\"yes\"}", "{\"gaming_mode\":1}", "null", "{not json",
            "[{\"gaming_mode\":false}]"})
    void unparseableStateMeansGamingOn(String content) throws Exception {
        Path f = tmp.resolve("manager-state.json");
        Files.writeString(f, content);
        assertThat(new StateStore(f).loadGaming()).isTrue();
    }

    @Test
    void aMissingFileIsAFirstRunAndAWrittenFlagReadsBack() throws Exception {
        StateStore store = new StateStore(tmp.resolve("sub/manager-state.json"));
        assertThat(store.loadGaming()).isFalse();
        store.saveGaming(false);
        assertThat(store.loadGaming()).isFalse();
        store.saveGaming(true);
        assertThat(store.loadGaming()).isTrue();
    }
}
