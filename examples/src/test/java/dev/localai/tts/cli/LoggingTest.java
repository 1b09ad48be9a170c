package dev.localai.tts.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.logging.Level;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;

class LoggingTest {
    @Test
    void verboseShowsTheLibrariesDetailButNotTheJvmsExitTrace() {
        Logging.configure(true);
        try {
            assertThat(Logger.getLogger("dev.localai.tts.core.engine").isLoggable(Level.FINE)).isTrue();
            // Java 24+ logs System.exit at DEBUG (FINE) with a stack trace
            assertThat(Logger.getLogger("java.lang.Runtime").isLoggable(Level.FINE)).isFalse();
        } finally {
            Logging.configure(false);
        }
        assertThat(Logger.getLogger("dev.localai.tts.core.engine").isLoggable(Level.FINE)).isFalse();
    }
}
