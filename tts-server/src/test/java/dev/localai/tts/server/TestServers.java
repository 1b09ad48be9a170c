package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.core.engine.ModelSource;
import dev.localai.tts.server.config.ServerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** Servers for the tests: the real engine on a tiny random checkpoint, on a free port. */
final class TestServers {
    private static TtsServer shared;

    private TestServers() {
    }

    /** The tiny checkpoint (generated once per build into target/). */
    static synchronized Path tinyModel() {
        return ModelSource.tiny(Path.of("target", "tiny-model-3").toAbsolutePath(), 3);
    }

    /** A fresh, empty voice library directory. */
    static Path freshVoicesDir() {
        try {
            Files.createDirectories(Path.of("target"));
            return Files.createTempDirectory(Path.of("target").toAbsolutePath(), "voices-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The base configuration: tiny model, free port, short generations (30 speech tokens per chunk). */
    static ServerConfig.Builder config() {
        return ServerConfig.builder()
                .host("127.0.0.1")
                .port(0)
                .model(tinyModel().toString())
                .device("cpu")
                .threads(1)
                .maxConcurrent(2)
                .maxQueue(8)
                .allowDownload(false)
                .warmUp(true)
                .maxTokens(30)
                .voicesDir(freshVoicesDir())
                .shutdownTimeout(Duration.ofSeconds(20));
    }

    /** Starts a server and waits until its model is loaded. */
    static TtsServer startReady(ServerConfig config) {
        TtsServer s = TtsServer.start(config);
        try {
            assertThat(s.engines().awaitLoaded(Duration.ofMinutes(2))).isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        assertThat(s.engines().ready()).as(s.engines().status().detail()).isTrue();
        return s;
    }

    /** One server shared by the test classes that do not need a configuration of their own. */
    static synchronized TtsServer shared() {
        if (shared == null) {
            shared = startReady(config().build());
            TtsServer s = shared;
            Runtime.getRuntime().addShutdownHook(new Thread(s::shutdown));
        }
        return shared;
    }
}
