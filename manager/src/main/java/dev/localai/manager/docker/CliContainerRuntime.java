package dev.localai.manager.docker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.regex.Pattern;

/**
 * {@link ContainerRuntime} over the docker CLI: argument lists, a timeout per command, both output streams
 * drained, failures classified from stderr, operations serialised per container.
 */
public final class CliContainerRuntime implements ContainerRuntime {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String binary;
    private final Duration timeout;
    private final ProcessRunner runner;
    private final Map<String, ReentrantLock> locks = new ConcurrentHashMap<>();
    private final CommandObserver observer;

    /** Receives the duration and outcome of each command (for metrics). */
    public interface CommandObserver {
        void observe(String op, String result, long nanos);
    }

    public CliContainerRuntime(String binary, Duration timeout, Map<String, String> env, CommandObserver observer) {
        this.binary = binary;
        this.timeout = timeout;
        this.runner = new ProcessRunner(env);
        this.observer = observer == null ? (o, r, n) -> { } : observer;
    }

    private static String check(String name) {
        if (name == null || !NAME.matcher(name).matches()) throw new IllegalArgumentException("invalid container name: " + name);
        return name;
    }

    private ProcessRunner.Result run(String op, Duration limit, String... args) throws DockerException {
        List<String> argv = new ArrayList<>(args.length + 1);
        argv.add(binary);
        argv.addAll(List.of(args));
        long t0 = System.nanoTime();
        String result = "error";
        try {
            ProcessRunner.Result r = runner.run(argv, limit);
            result = r.exit() == 0 ? "ok" : "error";
            if (r.exit() != 0) throw DockerException.classify(op, r.exit(), r.stderr().isBlank() ? r.stdout() : r.stderr());
            return r;
        } catch (IOException e) {
            throw new DockerException(DockerException.Kind.DAEMON_UNAVAILABLE, "cannot run " + binary + ": " + e.getMessage());
        } catch (DockerException e) {
            if (e.kind() == DockerException.Kind.TIMEOUT) result = "timeout";
            throw e;
        } finally {
            observer.observe(op, result, System.nanoTime() - t0);
        }
    }

    @Override
    public ContainerState inspect(String name) throws DockerException {
        ProcessRunner.Result r = run("inspect", timeout, "inspect", "--type", "container", check(name));
        return parseInspect(name, r.stdout());
    }

    static ContainerState parseInspect(String name, String json) throws DockerException {
        try {
            JsonNode root = JSON.readTree(json);
            JsonNode c = root.isArray() ? root.get(0) : root;
            if (c == null) throw new DockerException(DockerException.Kind.NOT_FOUND, "No such container: " + name);
            JsonNode s = c.path("State");
            List<String> bindings = new ArrayList<>();
            JsonNode pb = c.path("HostConfig").path("PortBindings");
            pb.properties().forEach(e -> {
                for (JsonNode b : e.getValue()) bindings.add(b.path("HostIp").asText("") + ":" + b.path("HostPort").asText(""));
            });
            return new ContainerState(name, s.path("Running").asBoolean(false), s.path("Status").asText("unknown"),
                    s.path("ExitCode").asInt(0), s.path("OOMKilled").asBoolean(false), s.path("Error").asText(""),
                    s.path("Health").path("Status").asText(""),
                    c.path("HostConfig").path("RestartPolicy").path("Name").asText("no"), bindings);
        } catch (IOException e) {
            throw new DockerException(DockerException.Kind.FAILED, "docker inspect " + name + ": unreadable output: " + e.getMessage());
        }
    }

    @Override
    public void start(String name) throws DockerException {
        ReentrantLock l = locks.computeIfAbsent(check(name), k -> new ReentrantLock());
        l.lock();
        try {
            run("start", timeout, "start", name);
        } finally {
            l.unlock();
        }
    }

    @Override
    public void stop(String name, Duration grace) throws DockerException {
        ReentrantLock l = locks.computeIfAbsent(check(name), k -> new ReentrantLock());
        l.lock();
        try {
            long secs = Math.max(0, (grace.toMillis() + 999) / 1000);
            run("stop", timeout.plus(Duration.ofSeconds(secs)), "stop", "-t", Long.toString(secs), name);
        } finally {
            l.unlock();
        }
    }

    @Override
    public Set<String> running() throws DockerException {
        ProcessRunner.Result r = run("ps", timeout, "ps", "--format", "{{.Names}}");
        Set<String> out = new LinkedHashSet<>();
        for (String line : r.stdout().split("\n")) {
            for (String n : line.strip().split(",")) if (!n.isBlank()) out.add(n.strip());
        }
        return out;
    }

    @Override
    public String logs(String name, int tail) throws DockerException {
        ProcessRunner.Result r = run("logs", timeout, "logs", "--tail", Integer.toString(Math.max(0, tail)), check(name));
        return r.stdout() + r.stderr();
    }

    @Override
    public InputStream followLogs(String name, int tail) throws DockerException {
        return stream(List.of(binary, "logs", "--tail", Integer.toString(Math.max(0, tail)), "-f", check(name)));
    }

    @Override
    public InputStream events() throws DockerException {
        return stream(List.of(binary, "events", "--filter", "type=container", "--format", "{{json .}}"));
    }

    /** A long-running command's output (stdout and stderr merged); closing it kills the command. */
    private InputStream stream(List<String> argv) throws DockerException {
        try {
            ProcessBuilder pb = runner.builder(argv).redirectErrorStream(true);
            Process p = pb.start();
            p.getOutputStream().close();
            return new FilterInputStream(p.getInputStream()) {
                @Override
                public void close() throws IOException {
                    ProcessRunner.kill(p); // first: a reader blocked on the pipe then sees its end
                    super.close();
                }
            };
        } catch (IOException e) {
            throw new DockerException(DockerException.Kind.DAEMON_UNAVAILABLE, "cannot run " + binary + ": " + e.getMessage());
        }
    }

    @Override
    public String ping() throws DockerException {
        return run("version", timeout, "version", "--format", "{{.Server.Version}}").stdout().strip();
    }
}
