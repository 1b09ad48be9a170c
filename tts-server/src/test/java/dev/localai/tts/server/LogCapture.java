package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Every log record of the process while {@link #start() started}: the tests that check what a server says (and does
 * not say) about a client's mistakes or departures. Start it after the server: Helidon sets up logging as it starts.
 */
final class LogCapture extends Handler {
    private final List<LogRecord> records = new CopyOnWriteArrayList<>();

    /** Records from now on, at every level. */
    LogCapture start() {
        setLevel(Level.ALL);
        Logger.getLogger("").addHandler(this);
        return this;
    }

    /** Stops recording (what was recorded stays). */
    void stop() {
        Logger.getLogger("").removeHandler(this);
    }

    /** Forgets what was recorded so far. */
    void clear() {
        records.clear();
    }

    /** The records so far, in order. */
    List<LogRecord> records() {
        return new ArrayList<>(records);
    }

    /** Asserts that nothing was logged above INFO, and no stack trace above FINE. */
    void assertQuiet(String about) {
        assertThat(records).as("nothing above INFO about %s", about)
                .filteredOn(r -> r.getLevel().intValue() > Level.INFO.intValue())
                .extracting(r -> r.getLoggerName() + ": " + r.getMessage())
                .isEmpty();
        assertThat(records).as("no stack trace above FINE about %s", about)
                .filteredOn(r -> r.getThrown() != null && r.getLevel().intValue() > Level.FINE.intValue())
                .isEmpty();
    }

    @Override
    public void publish(LogRecord r) {
        records.add(r);
    }

    @Override
    public void flush() {
    }

    @Override
    public void close() {
    }
}
