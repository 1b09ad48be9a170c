package dev.localai.manager.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Just enough of the Docker Engine API on loopback TCP for the real {@code docker} CLI
 * ({@code DOCKER_HOST=tcp://127.0.0.1:PORT}): ping, version, ps, inspect, start, stop, logs.
 */
public final class FakeEngine implements AutoCloseable {
    private static final Pattern CONTAINER = Pattern.compile("/v[0-9.]+/containers/([^/]+)/(json|start|stop|logs)");
    private final HttpServer server;
    private final Map<String, Boolean> running = new ConcurrentHashMap<>();
    private final Map<String, Integer> exitCodes = new ConcurrentHashMap<>();
    /** Every request as {@code "METHOD /path?query"}. */
    public final List<String> requests = new CopyOnWriteArrayList<>();
    private final java.util.concurrent.BlockingQueue<String> events = new java.util.concurrent.LinkedBlockingQueue<>();
    private volatile boolean stopped;

    /** Queues a container event for {@code GET /events} streams. */
    public void emit(String action, String name) {
        events.add("{\"status\":\"" + action + "\",\"id\":\"" + id(name) + "\",\"from\":\"img\",\"Type\":\"container\","
                + "\"Action\":\"" + action + "\",\"Actor\":{\"ID\":\"" + id(name) + "\",\"Attributes\":{\"name\":\"" + name
                + "\",\"image\":\"img\"}},\"scope\":\"local\",\"time\":1700000000,\"timeNano\":1700000000000000000}");
    }

    /** When set, {@code start} requests block until it opens (a hanging daemon). */
    public volatile CountDownLatch startGate;

    public FakeEngine() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        server.createContext("/", this::handle);
        server.start();
    }

    public String host() {
        return "tcp://127.0.0.1:" + server.getAddress().getPort();
    }

    public FakeEngine add(String name, boolean up) {
        running.put(name, up);
        return this;
    }

    public boolean isRunning(String name) {
        return Boolean.TRUE.equals(running.get(name));
    }

    public void crash(String name, int exitCode) {
        exitCodes.put(name, exitCode);
        running.put(name, false);
    }

    /** Requests whose path ends with the suffix (e.g. {@code "/containers/tts/start"}). */
    public long count(String method, String suffix) {
        return requests.stream().filter(r -> r.startsWith(method + " ") && r.split("\\?")[0].endsWith(suffix)).count();
    }

    private void handle(HttpExchange ex) throws IOException {
        String path = ex.getRequestURI().getPath();
        String query = ex.getRequestURI().getRawQuery();
        requests.add(ex.getRequestMethod() + " " + path + (query == null ? "" : "?" + query));
        ex.getRequestBody().readAllBytes();
        ex.getResponseHeaders().add("Api-Version", "1.47");
        ex.getResponseHeaders().add("Ostype", "linux");
        ex.getResponseHeaders().add("Server", "Docker/28.2.2 (linux)");
        try (ex) {
            if (path.endsWith("/_ping")) {
                ex.getResponseHeaders().add("Content-Type", "text/plain");
                if (ex.getRequestMethod().equals("HEAD")) ex.sendResponseHeaders(200, -1);
                else send(ex, 200, "text/plain", "OK");
                return;
            }
            if (path.matches("/v[0-9.]+/version")) {
                send(ex, 200, "application/json", "{\"Version\":\"28.2.2\",\"ApiVersion\":\"1.47\",\"MinAPIVersion\":\"1.24\","
                        + "\"Os\":\"linux\",\"Arch\":\"amd64\",\"KernelVersion\":\"6.0\",\"GoVersion\":\"go1.24\",\"GitCommit\":\"fake\","
                        + "\"Components\":[{\"Name\":\"Engine\",\"Version\":\"28.2.2\",\"Details\":{\"ApiVersion\":\"1.47\"}}]}");
                return;
            }
            if (path.matches("/v[0-9.]+/events")) {
                ex.getResponseHeaders().add("Content-Type", "application/json");
                ex.sendResponseHeaders(200, 0);
                while (!stopped) {
                    String e = events.poll(50, TimeUnit.MILLISECONDS);
                    if (e == null) continue;
                    ex.getResponseBody().write((e + "\n").getBytes(StandardCharsets.UTF_8));
                    ex.getResponseBody().flush();
                }
                return;
            }
            if (path.matches("/v[0-9.]+/containers/json")) {
                StringBuilder sb = new StringBuilder("[");
                running.forEach((n, up) -> {
                    if (!up) return;
                    if (sb.length() > 1) sb.append(',');
                    sb.append("{\"Id\":\"").append(id(n)).append("\",\"Names\":[\"/").append(n)
                            .append("\"],\"Image\":\"img\",\"Command\":\"serve\",\"Created\":1700000000,\"State\":\"running\","
                                    + "\"Status\":\"Up 1 minute\",\"Ports\":[],\"Labels\":{},\"Mounts\":[]}");
                });
                send(ex, 200, "application/json", sb.append(']').toString());
                return;
            }
            Matcher m = CONTAINER.matcher(path);
            if (!m.matches()) {
                send(ex, 404, "application/json", "{\"message\":\"page not found\"}");
                return;
            }
            String ref = URLDecoder.decode(m.group(1), StandardCharsets.UTF_8);
            String name = running.keySet().stream().filter(n -> n.equals(ref) || id(n).equals(ref)).findFirst().orElse(ref);
            if (!running.containsKey(name)) {
                send(ex, 404, "application/json", "{\"message\":\"No such container: " + name + "\"}");
                return;
            }
            switch (m.group(2)) {
                case "json" -> send(ex, 200, "application/json", inspect(name));
                case "start" -> {
                    CountDownLatch gate = startGate;
                    if (gate != null) gate.await(30, TimeUnit.SECONDS);
                    boolean was = isRunning(name);
                    running.put(name, true);
                    exitCodes.remove(name);
                    ex.sendResponseHeaders(was ? 304 : 204, -1);
                }
                case "stop" -> {
                    boolean was = isRunning(name);
                    running.put(name, false);
                    ex.sendResponseHeaders(was ? 204 : 304, -1);
                }
                case "logs" -> {
                    ex.getResponseHeaders().add("Content-Type", "application/vnd.docker.multiplexed-stream");
                    ex.sendResponseHeaders(200, 0);
                    ex.getResponseBody().write(frame(1, "loading " + name + "\n"));
                    ex.getResponseBody().write(frame(2, "warning: slow disk\n"));
                }
                default -> ex.sendResponseHeaders(500, -1);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static String id(String name) {
        String h = Integer.toHexString(name.hashCode() & 0x7fffffff);
        return ("0".repeat(64) + h).substring(h.length());
    }

    private String inspect(String name) {
        boolean up = isRunning(name);
        int code = exitCodes.getOrDefault(name, 0);
        return "{\"Id\":\"" + id(name) + "\",\"Name\":\"/" + name + "\",\"State\":{\"Status\":\"" + (up ? "running" : "exited")
                + "\",\"Running\":" + up + ",\"Paused\":false,\"Restarting\":false,\"OOMKilled\":false,\"Dead\":false,\"Pid\":"
                + (up ? 4242 : 0) + ",\"ExitCode\":" + code + ",\"Error\":\"\",\"StartedAt\":\"2026-01-01T00:00:00Z\","
                + "\"FinishedAt\":\"0001-01-01T00:00:00Z\"},\"HostConfig\":{\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},"
                + "\"PortBindings\":{\"8000/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"8006\"}]}},"
                + "\"Config\":{\"Tty\":false,\"Image\":\"img\"}}";
    }

    private static byte[] frame(int stream, String text) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(stream);
        out.write(0);
        out.write(0);
        out.write(0);
        out.write(payload.length >>> 24);
        out.write(payload.length >>> 16);
        out.write(payload.length >>> 8);
        out.write(payload.length);
        out.writeBytes(payload);
        return out.toByteArray();
    }

    private static void send(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", type);
        ex.sendResponseHeaders(status, b.length);
        ex.getResponseBody().write(b);
    }

    @Override
    public void close() {
        stopped = true;
        server.stop(0);
    }
}
