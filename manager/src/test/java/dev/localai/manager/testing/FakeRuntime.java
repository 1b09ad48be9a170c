package dev.localai.manager.testing;

import dev.localai.manager.docker.ContainerRuntime;
import dev.localai.manager.docker.ContainerState;
import dev.localai.manager.docker.DockerException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A recording, scriptable container runtime: containers are names with a running flag; every call is recorded
 * as {@code "op name"}; failures (exit during start, ignored stop, daemon down, blocked start) are injected.
 */
public final class FakeRuntime implements ContainerRuntime {
    private record Exit(int code, boolean oom, String error) {}

    private final Map<String, Boolean> running = new ConcurrentHashMap<>();
    private final Map<String, Exit> exits = new ConcurrentHashMap<>();
    private final Map<String, Exit> dieOnStart = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> startGates = new ConcurrentHashMap<>();
    private final Map<String, CountDownLatch> stopGates = new ConcurrentHashMap<>();
    private final Map<String, Integer> ignoreStops = new ConcurrentHashMap<>();
    private final List<String> calls = new ArrayList<>();
    private volatile boolean daemonDown;
    private final Set<String> buggyStarts = ConcurrentHashMap.newKeySet();

    /** Declares a (stopped) container. */
    public FakeRuntime add(String... names) {
        for (String n : names) running.putIfAbsent(n, false);
        return this;
    }

    /** Declares a container that is already running (to be adopted at boot). */
    public FakeRuntime addRunning(String name) {
        running.put(name, true);
        return this;
    }

    /** The container starts, then exits at once with this code (as docker reports it on the next inspect). */
    public void dieOnStart(String name, int exitCode, boolean oom) {
        dieOnStart.put(name, new Exit(exitCode, oom, ""));
    }

    /** {@code docker start} throws an unchecked exception (a bug in a runtime implementation). */
    public void bugOnStart(String name) {
        buggyStarts.add(name);
    }

    /** {@code docker start} blocks until the latch opens. */
    public void gateStart(String name, CountDownLatch gate) {
        startGates.put(name, gate);
    }

    /** {@code docker stop} blocks until the latch opens. */
    public void gateStop(String name, CountDownLatch gate) {
        stopGates.put(name, gate);
    }

    /** The next {@code n} stops of this container return success but leave it running. */
    public void ignoreStops(String name, int n) {
        ignoreStops.put(name, n);
    }

    /** The container dies (a crash after ready). */
    public void crash(String name, int exitCode, boolean oom) {
        exits.put(name, new Exit(exitCode, oom, ""));
        running.put(name, false);
    }

    public void daemonDown(boolean down) {
        daemonDown = down;
    }

    public boolean isRunning(String name) {
        return Boolean.TRUE.equals(running.get(name));
    }

    /** Recorded calls, e.g. {@code ["inspect tts", "start tts"]}. */
    public synchronized List<String> calls() {
        return List.copyOf(calls);
    }

    /** Recorded calls of one operation, e.g. {@code count("start", "tts")}. */
    public synchronized long count(String op, String name) {
        return calls.stream().filter(c -> c.equals(op + " " + name)).count();
    }

    /** Recorded start/stop calls only, in order. */
    public synchronized List<String> startsAndStops() {
        return calls.stream().filter(c -> c.startsWith("start ") || c.startsWith("stop ")).toList();
    }

    private synchronized void record(String op, String name) {
        calls.add(op + " " + name);
    }

    private void checkDaemon() throws DockerException {
        if (daemonDown) throw new DockerException(DockerException.Kind.DAEMON_UNAVAILABLE,
                "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?");
    }

    private void exists(String name) throws DockerException {
        if (!running.containsKey(name)) throw new DockerException(DockerException.Kind.NOT_FOUND, "Error: No such container: " + name);
    }

    @Override
    public ContainerState inspect(String name) throws DockerException {
        record("inspect", name);
        checkDaemon();
        exists(name);
        boolean up = isRunning(name);
        Exit e = exits.getOrDefault(name, new Exit(0, false, ""));
        return new ContainerState(name, up, up ? "running" : "exited", up ? 0 : e.code(), !up && e.oom(), e.error(), "",
                "no", List.of("127.0.0.1:8000"));
    }

    @Override
    public void start(String name) throws DockerException {
        record("start", name);
        checkDaemon();
        exists(name);
        await(startGates.get(name));
        if (buggyStarts.contains(name)) throw new IllegalStateException("bug in the runtime");
        Exit die = dieOnStart.get(name);
        if (die != null) {
            exits.put(name, die);
            running.put(name, false);
            return;
        }
        exits.remove(name);
        running.put(name, true);
    }

    private static void await(CountDownLatch gate) throws DockerException {
        if (gate == null) return;
        try {
            if (!gate.await(30, TimeUnit.SECONDS)) throw new DockerException(DockerException.Kind.TIMEOUT, "gate never opened");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DockerException(DockerException.Kind.TIMEOUT, "interrupted");
        }
    }

    @Override
    public void stop(String name, Duration grace) throws DockerException {
        record("stop", name);
        checkDaemon();
        exists(name);
        await(stopGates.get(name));
        Integer ignore = ignoreStops.get(name);
        if (ignore != null && ignore > 0) {
            ignoreStops.put(name, ignore - 1);
            return;
        }
        if (isRunning(name)) exits.put(name, new Exit(0, false, ""));
        running.put(name, false);
    }

    @Override
    public Set<String> running() throws DockerException {
        record("ps", "");
        checkDaemon();
        Set<String> out = new LinkedHashSet<>();
        running.forEach((k, v) -> {
            if (v) out.add(k);
        });
        return out;
    }

    @Override
    public String logs(String name, int tail) throws DockerException {
        record("logs", name);
        checkDaemon();
        exists(name);
        return "booting " + name + "\nCUDA out of memory while loading weights";
    }

    /** When set, {@code docker logs -f} prints the tail and then stays quiet until closed (like a live container). */
    public volatile boolean quietFollow;
    /** {@code docker logs -f} children alive now (opened and not yet closed). */
    public final java.util.concurrent.atomic.AtomicInteger liveFollows = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public InputStream followLogs(String name, int tail) throws DockerException {
        byte[] head = logs(name, tail).getBytes(StandardCharsets.UTF_8);
        if (!quietFollow) return new ByteArrayInputStream(head);
        liveFollows.incrementAndGet();
        CountDownLatch closed = new CountDownLatch(1);
        return new java.io.SequenceInputStream(new ByteArrayInputStream(head), new InputStream() {
            @Override
            public int read() throws java.io.IOException {
                try {
                    closed.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return -1;
            }
        }) {
            private boolean done;

            @Override
            public synchronized void close() throws java.io.IOException {
                if (!done) {
                    done = true;
                    liveFollows.decrementAndGet();
                    closed.countDown();
                }
                super.close();
            }
        };
    }

    private final java.util.concurrent.BlockingQueue<byte[]> events = new java.util.concurrent.LinkedBlockingQueue<>();
    private volatile int eventStreams;

    /** Sends a {@code docker events} line (JSON) to the open event streams' reader. */
    public void emit(String json) {
        events.add((json + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** How many times the event stream was opened. */
    public int eventStreams() {
        return eventStreams;
    }

    @Override
    public InputStream events() throws DockerException {
        checkDaemon();
        eventStreams++;
        return new InputStream() {
            private static final byte[] END = new byte[0];
            private byte[] buf = new byte[0];
            private int pos;
            private volatile boolean closed;

            @Override
            public int read() throws java.io.IOException {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) throws java.io.IOException {
                while (pos >= buf.length) {
                    if (closed) return -1;
                    try {
                        byte[] next = events.poll(50, TimeUnit.MILLISECONDS);
                        if (next == END) return -1;
                        if (next != null) {
                            buf = next;
                            pos = 0;
                        }
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException();
                    }
                }
                int n = Math.min(len, buf.length - pos);
                System.arraycopy(buf, pos, b, off, n);
                pos += n;
                return n;
            }

            @Override
            public void close() {
                closed = true;
            }
        };
    }

    @Override
    public String ping() throws DockerException {
        checkDaemon();
        return "28.2.2";
    }
}
