package dev.localai.tts.server.web;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code tts-server} as its users start it: {@code dev.localai.tts.server.Main} in its own JVM (this test JVM's
 * class path and native flags), on a free loopback port, with the given model and voice library. {@link #start}
 * returns once {@code /health/ready} answers 200; the server's output goes to {@code target/NAME.log}.
 */
final class ServerProcess implements AutoCloseable {
    private final Process process;
    private final URI base;
    private final Path log;

    private ServerProcess(Process process, URI base, Path log) {
        this.process = process;
        this.base = base;
        this.log = log;
    }

    static ServerProcess start(String name, Path model, Path voices) throws Exception {
        // before the server issue is merged, Main is a placeholder: nothing to test against yet
        org.junit.jupiter.api.Assumptions.assumeTrue(isPresent("dev.localai.tts.server.TtsServer"),
                "this build has no tts-server implementation (dev.localai.tts.server.TtsServer) yet");
        int port = freePort();
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (a.startsWith("--enable-native-access") || a.startsWith("-Dorg.bytedeco") || a.startsWith("-Xss")
                    || a.startsWith("--sun-misc-unsafe-memory-access")) {
                cmd.add(a);
            }
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.localai.tts.server.Main",
                "--host", "127.0.0.1", "--port", Integer.toString(port), "--model", model.toString(),
                "--voices", voices.toString(), "--device", "cpu"));
        Path log = Files.createDirectories(Path.of("target")).resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ServerProcess server = new ServerProcess(p, URI.create("http://127.0.0.1:" + port + "/"), log);
        server.awaitReady(Duration.ofSeconds(120));
        return server;
    }

    URI base() {
        return base;
    }

    URI uri(String path) {
        return base.resolve(path);
    }

    private void awaitReady(Duration limit) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("tts-server exited with " + process.exitValue() + ":\n" + tail());
            }
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(uri("health/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        close();
        throw new IllegalStateException("tts-server not ready after " + limit + ":\n" + tail());
    }

    /** The end of the server's log, for failure messages. */
    String tail() throws IOException {
        String s = Files.readString(log);
        return s.length() > 4000 ? s.substring(s.length() - 4000) : s;
    }

    private static boolean isPresent(String className) {
        try {
            Class.forName(className, false, ServerProcess.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
