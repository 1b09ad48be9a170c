package dev.localai.tts.server.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.testing.HeadlessChromium;
import dev.localai.tts.core.engine.ModelSource;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;

/**
 * The dashboard's path to speech: Debian's nginx with the sample {@code deploy/nginx/tts.conf} location in front of
 * a real {@code tts-server} (tiny checkpoint), all on loopback. A speech request sent to {@code /tts/v1/audio/speech}
 * comes back as audio, and the playground works under the {@code /tts/} prefix in a real Chromium. Skips without
 * {@code /usr/sbin/nginx} (and the browser part without Chromium).
 */
class NginxProxyTest {
    static final Path NGINX = Path.of(System.getenv().getOrDefault("NGINX", "/usr/sbin/nginx"));
    static final Path SAMPLE = Path.of("..", "deploy", "nginx", "tts.conf");

    @TempDir
    static Path tmp;
    static ServerProcess server;
    static Process nginx;
    static URI front;

    @BeforeAll
    static void start() throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(NGINX), "nginx not installed (apt-get install nginx-light)");
        String upstream;
        String external = System.getProperty("web.baseUrl");
        if (external != null && !external.isBlank()) {
            upstream = URI.create(external).getAuthority();
        } else {
            server = ServerProcess.start("nginx-proxy-server", ModelSource.tiny(tmp.resolve("tiny"), 12),
                    tmp.resolve("voices"));
            upstream = server.base().getAuthority();
        }
        int port = freePort();
        Path prefix = Files.createDirectories(tmp.resolve("nginx"));
        Files.createDirectories(prefix.resolve("temp"));
        String location = Files.readString(SAMPLE).replace("127.0.0.1:8000", upstream);
        assertThat(location).as("the sample proxies to the manager's default address").contains(upstream);
        Files.writeString(prefix.resolve("tts.conf"), location);
        Files.writeString(prefix.resolve("nginx.conf"), """
                worker_processes 1;
                daemon off;
                pid %1$s/nginx.pid;
                error_log %1$s/error.log info;
                events { worker_connections 64; }
                http {
                    access_log %1$s/access.log;
                    client_body_temp_path %1$s/temp/body;
                    proxy_temp_path %1$s/temp/proxy;
                    server {
                        listen 127.0.0.1:%2$d;
                        include %1$s/tts.conf;
                    }
                }
                """.formatted(prefix, port));
        nginx = new ProcessBuilder(NGINX.toString(), "-p", prefix.toString(), "-e", prefix.resolve("error.log").toString(),
                "-c", prefix.resolve("nginx.conf").toString())
                .redirectErrorStream(true).redirectOutput(prefix.resolve("stdout.log").toFile()).start();
        front = URI.create("http://127.0.0.1:" + port + "/");
        awaitListening(port, prefix);
    }

    @AfterAll
    static void stop() throws Exception {
        if (nginx != null) {
            nginx.destroy();
            nginx.waitFor();
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    void speechThroughTheTtsPathComesBackAsAudio() throws Exception {
        HttpResponse<byte[]> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(front.resolve("tts/v1/audio/speech"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("""
                        {"model":"tts-1","input":"Hi.","voice":"default","response_format":"wav"}"""))
                .timeout(Duration.ofSeconds(300)).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(ct -> assertThat(ct).startsWith("audio/wav"));
        byte[] b = r.body();
        assertThat(b.length).isGreaterThan(44 + 480);
        assertThat(new String(b, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("RIFF");
        assertThat(new String(b, 8, 4, StandardCharsets.US_ASCII)).isEqualTo("WAVE");
    }

    @Test
    void listingsAndThePageAreServedUnderThePrefix() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        HttpResponse<String> voices = http.send(HttpRequest.newBuilder(front.resolve("tts/v1/audio/voices")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(voices.statusCode()).isEqualTo(200);
        assertThat(voices.body()).contains("\"default\"");
        HttpResponse<String> page = http.send(HttpRequest.newBuilder(front.resolve("tts/")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("id=\"speak-form\"");
    }

    @Test
    void thePlaygroundWorksBehindTheProxy() throws Exception {
        try (HeadlessChromium browser = HeadlessChromium.start()) {
            browser.driver().get(front.resolve("tts/").toString());
            browser.await(20, d -> d.findElements(By.cssSelector("#voice option[value='default']")).size() == 1);
            var text = browser.driver().findElement(By.id("text"));
            text.clear();
            text.sendKeys("Hi.");
            browser.driver().findElement(By.id("speak")).click();
            Map<?, ?> audio = browser.await(240, d -> {
                Object o = browser.js("""
                        const a = document.getElementById('player');
                        if (a.error) return {error: a.error.code};
                        return a.src && a.readyState >= 1 && a.duration > 0 ? {duration: a.duration} : null;
                        """);
                return o instanceof Map<?, ?> m ? m : null;
            });
            assertThat(audio.get("error")).as("audio element error: %s", audio).isNull();
            assertThat(((Number) audio.get("duration")).doubleValue()).isGreaterThan(0.1);
        }
    }

    private static void awaitListening(int port, Path prefix) throws Exception {
        for (int i = 0; i < 100; i++) {
            if (!nginx.isAlive()) {
                throw new IllegalStateException("nginx exited: " + Files.readString(prefix.resolve("stdout.log"))
                        + Files.readString(prefix.resolve("error.log")));
            }
            try (Socket s = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                Thread.sleep(100);
            }
        }
        throw new IllegalStateException("nginx does not listen on " + port);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
