package dev.localai.tts.server;

import dev.localai.tts.server.config.ConfigLoader;
import dev.localai.tts.server.config.ServerConfig;

/**
 * Entry point: {@code java -jar tts-server.jar [--model DIR|REPO_ID] [--port N] [--voices DIR]}. Flags override
 * {@code application.yaml} and the {@code TTS_*} environment variables; SIGTERM/SIGINT shut down gracefully.
 */
public final class Main {
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
                return;
            }
            config = ConfigLoader.load(flags, System.getenv());
        } catch (IllegalArgumentException e) {
            System.err.println("tts-server: " + e.getMessage());
            System.exit(2);
            return;
        }
        TtsServer server = TtsServer.start(config);
        // JUL's own shutdown hook may drop records logged now, so the shutdown speaks on stderr
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.err.println("tts-server: shutting down; letting in-flight requests finish (at most "
                    + config.shutdownTimeout().toSeconds() + " s)");
            server.shutdown();
            System.err.println("tts-server: stopped");
        }, "tts-shutdown"));
    }
}
