package dev.localai.manager.web;

import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.ContainerState;
import dev.localai.manager.docker.DockerException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The gaming PC's containers without a Docker engine: named containers that start and stop at once, for the
 * browser test of the manager's page (there is no Docker daemon in the build).
 */
final class HomeLabDocker implements ContainerRuntime {
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();

    HomeLabDocker(String... containers) {
        for (String c : containers) {
            running.put(c, false);
        }
    }

    boolean isRunning(String name) {
        return running.getOrDefault(name, false);
    }

    private void exists(String name) throws DockerException {
        if (!running.containsKey(name)) {
            throw new DockerException(DockerException.Kind.NOT_FOUND, "Error: No such container: " + name);
        }
    }

    /** No container changes by itself here: a stream that stays open without events until closed. */
    @Override
    public InputStream events() {
        java.util.concurrent.CountDownLatch closed = new java.util.concurrent.CountDownLatch(1);
        return new InputStream() {
            @Override
            public int read() throws java.io.IOException {
                try {
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.io.InterruptedIOException();
                }
                return -1;
            }

            @Override
            public void close() {
                closed.countDown();
            }
        };
    }

    @Override
    public ContainerState inspect(String name) throws DockerException {
        exists(name);
        boolean up = isRunning(name);
        return new ContainerState(name, up, up ? "running" : "exited", 0, false, "", "", "no", List.of("127.0.0.1:0"));
    }

    @Override
    public void start(String name) throws DockerException {
        exists(name);
        running.put(name, true);
    }

    @Override
    public void stop(String name, Duration grace) throws DockerException {
        exists(name);
        running.put(name, false);
    }

    @Override
    public Set<String> running() {
        Set<String> out = new TreeSet<>();
        running.forEach((k, up) -> {
            if (up) {
                out.add(k);
            }
        });
        return out;
    }

    @Override
    public String logs(String name, int tail) throws DockerException {
        exists(name);
        return name + (isRunning(name) ? " running" : " stopped") + "\n";
    }

    @Override
    public InputStream followLogs(String name, int tail) throws DockerException {
        return new ByteArrayInputStream(logs(name, tail).getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String ping() {
        return "in-memory";
    }
}
