package dev.localai.tts.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Console logging of the command line: library warnings become one line each ({@code tts: warning: ...}) on
 * standard error; errors are left to the command's own error message; everything, with stack traces, only with
 * {@code --verbose}.
 */
final class Logging {
    /**
     * Java 24+ logs every {@code System.exit} at DEBUG (FINE here) with a stack trace; under {@code --verbose} each
     * command would end with that trace. Held here: JUL keeps loggers only weakly, and a collected one loses its level.
     */
    static final Logger RUNTIME_EXIT = Logger.getLogger("java.lang.Runtime");

    private Logging() {
    }

    static void configure(boolean verbose) {
        Logger root = Logger.getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler console = new ConsoleHandler();
        console.setLevel(verbose ? Level.ALL : Level.WARNING);
        if (!verbose) {
            // a failure the libraries log as SEVERE also reaches the command as an exception, which prints it once
            console.setFilter(r -> r.getLevel().intValue() < Level.SEVERE.intValue());
        }
        console.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String level = r.getLevel().intValue() >= Level.SEVERE.intValue() ? "error"
                        : r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning" : "info";
                StringBuilder b = new StringBuilder("tts: ").append(level).append(": ").append(formatMessage(r));
                Throwable t = r.getThrown();
                if (t != null) {
                    b.append(": ").append(Errors.message(t));
                }
                b.append(System.lineSeparator());
                if (verbose && t != null) {
                    java.io.StringWriter sw = new java.io.StringWriter();
                    t.printStackTrace(new java.io.PrintWriter(sw));
                    b.append(sw);
                }
                return b.toString();
            }
        });
        root.addHandler(console);
        root.setLevel(verbose ? Level.FINE : Level.INFO);
        RUNTIME_EXIT.setLevel(Level.INFO);
    }
}
