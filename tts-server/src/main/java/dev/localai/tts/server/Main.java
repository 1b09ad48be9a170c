package dev.localai.tts.server;

import dev.localai.tts.core.runtime.JvmArchive;
import dev.localai.tts.server.config.ConfigLoader;
import dev.localai.tts.server.config.ServerConfig;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;

/**
 * Entry point: {@code java -jar tts-server.jar [--model DIR|REPO_ID] [--port N] [--voices DIR]} (or
 * {@code ./tts serve ...}). Flags override {@code application.yaml} and the {@code TTS_*} environment variables;
 * SIGTERM/SIGINT shut down gracefully. A startup mistake (bad flag or value, busy port) is one line on stderr and a
 * non-zero exit: 2 for bad flags or configuration, 1 when the server cannot listen.
 */
public final class Main {
    /** Exit code of a bad flag, value or configuration file. */
    public static final int EXIT_USAGE = 2;
    /** Exit code when the server cannot listen (port in use, address not available, no permission). */
    public static final int EXIT_CANNOT_LISTEN = 1;

    private Main() {
    }

    public static void main(String[] args) {
        // JavaCPP reads these when its first class initialises (when the engine loads), so plain
        // `java -jar tts-server.jar` works: LibTorch's memory is not capped by a heap-derived limit.
        // (--enable-native-access comes from the jar manifest.)
        for (String p : new String[] {"org.bytedeco.javacpp.maxPhysicalBytes", "org.bytedeco.javacpp.maxBytes"}) {
            if (System.getProperty(p) == null) {
                System.setProperty(p, "0");
            }
        }
        ServerConfig config;
        try {
            ConfigLoader.Flags flags = ConfigLoader.parseFlags(args);
            if (flags.help()) {
                System.out.println(ConfigLoader.USAGE);
                JvmArchive.discard(); // a JVM archive this run writes would hold little of what serving needs
                return;
            }
            config = ConfigLoader.load(flags, System.getenv());
        } catch (IllegalArgumentException e) {
            fail(EXIT_USAGE, firstLine(e.getMessage()) + " (see --help)");
            return;
        }
        String busy = cannotListen(config.host(), config.port());
        if (busy != null) {
            fail(EXIT_CANNOT_LISTEN, busy);
            return;
        }
        TtsServer server = TtsServer.start(config);
        if (server.port() < 0) {
            // lost a race for the port after the check above; Helidon has logged why
            server.shutdown();
            fail(EXIT_CANNOT_LISTEN, "cannot listen on " + config.host() + ":" + config.port());
            return;
        }
        // JUL's own shutdown hook may drop records logged now, so the shutdown speaks on stderr
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("tts-server: shutting down; letting in-flight requests finish (at most "
                    + config.shutdownTimeout().toSeconds() + " s)");
            server.shutdown();
            System.err.println("tts-server: stopped");
        }, "tts-shutdown"));
    }

    /**
     * Why the server could not listen on {@code host:port}, in one line, or {@code null} when it can: a trial bind
     * before the web server starts, so a busy port is a clear message rather than the web server's stack trace.
     */
    static String cannotListen(String host, int port) {
        if (port == 0) {
            return null;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
            return null;
        } catch (BindException e) {
            String why = e.getMessage() == null ? "" : e.getMessage().toLowerCase(java.util.Locale.ROOT);
            if (why.contains("in use")) {
                return "port " + port + " on " + host + " is already in use (another tts-server?); "
                        + "stop it or pick another port with --port N";
            }
            return "cannot listen on " + host + ":" + port + ": " + firstLine(e.getMessage());
        } catch (IOException | SecurityException | IllegalArgumentException e) {
            return "cannot listen on " + host + ":" + port + ": " + firstLine(e.getMessage());
        }
    }

    private static String firstLine(String s) {
        return s == null || s.isBlank() ? "invalid arguments" : s.strip().lines().findFirst().orElse(s);
    }

    private static void fail(int code, String message) {
        System.err.println("tts-server: " + message);
        System.err.flush();
        JvmArchive.discard();
        System.exit(code);
    }
}
