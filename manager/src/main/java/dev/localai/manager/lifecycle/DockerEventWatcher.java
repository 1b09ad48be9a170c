package dev.localai.manager.lifecycle;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.DockerException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Follows {@code docker events} so that a container dying after it was ready is noticed at once rather than at the
 * next liveness check. Events are hints: the manager confirms each with an inspection, and reconciles after every
 * reconnect because events may have been missed meanwhile.
 */
final class DockerEventWatcher implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger("dev.localai.manager");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> DEATHS = Set.of("die", "oom", "kill");
    private static final long MAX_BACKOFF_MS = 30_000;

    private final ContainerRuntime runtime;
    private final Consumer<String> onDeath;
    private final Runnable onReconnect;
    private volatile boolean closed;
    private volatile InputStream current;

    /**
     * @param onDeath     called with the container name of a die/oom/kill event
     * @param onReconnect called after the stream was re-established (events may have been missed)
     */
    DockerEventWatcher(ContainerRuntime runtime, Consumer<String> onDeath, Runnable onReconnect) {
        this.runtime = runtime;
        this.onDeath = onDeath;
        this.onReconnect = onReconnect;
    }

    DockerEventWatcher start() {
        Thread.ofVirtual().name("docker-events").start(this::loop);
        return this;
    }

    private void loop() {
        long backoff = 1000;
        boolean reconnect = false;
        while (!closed) {
            try (InputStream in = runtime.events()) {
                current = in;
                if (closed) return;
                if (reconnect) onReconnect.run();
                BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
                String line;
                while ((line = r.readLine()) != null) {
                    if (handle(line)) backoff = 1000;
                }
            } catch (DockerException | IOException | RuntimeException e) {
                if (!closed) LOG.fine(() -> "docker events stream failed: " + e.getMessage());
            } finally {
                current = null;
            }
            if (closed) return;
            reconnect = true;
            LockSupportSleep.sleepNanos(backoff * 1_000_000L);
            backoff = Math.min(MAX_BACKOFF_MS, backoff * 2);
        }
    }

    /** Handles one line; true when it was an event (the stream works). */
    boolean handle(String line) {
        JsonNode n;
        try {
            n = JSON.readTree(line);
        } catch (IOException e) {
            return false; // e.g. the CLI's own error text when the daemon is down
        }
        if (n == null || !n.isObject()) return false;
        String type = n.path("Type").asText("container");
        String action = n.path("Action").asText(n.path("status").asText(""));
        String name = n.path("Actor").path("Attributes").path("name").asText("");
        if ("container".equals(type) && DEATHS.contains(action) && !name.isEmpty()) onDeath.accept(name);
        return true;
    }

    @Override
    public void close() {
        closed = true;
        InputStream in = current;
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
