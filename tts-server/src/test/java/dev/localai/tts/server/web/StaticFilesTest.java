package dev.localai.tts.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StaticFilesTest {
    @Test
    void plainNamesResolveInsideTheFolder() {
        assertThat(StaticFiles.resolve("/")).isEqualTo("index.html");
        assertThat(StaticFiles.resolve("/app.js")).isEqualTo("app.js");
        assertThat(StaticFiles.resolve("/assets/")).isEqualTo("assets/index.html");
        assertThat(StaticFiles.resolve("/assets/logo.svg")).isEqualTo("assets/logo.svg");
    }

    @Test
    void anythingThatCouldLeaveTheFolderIsRefused() {
        for (String p : new String[] {"/../x", "/a/../../x", "/%2e%2e/x", "/a%2fb", "/a\\b", "//etc/passwd",
                "/.env", "/a/.git/config", "/..", "/a..b/c"}) {
            assertThat(StaticFiles.resolve(p)).as(p).isNull();
        }
    }
}
