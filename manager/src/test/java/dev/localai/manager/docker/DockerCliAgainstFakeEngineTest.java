package dev.localai.manager.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.localai.manager.testing.FakeEngine;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real {@code docker} CLI (skipped when absent) against a fake Engine API on loopback TCP. */
class DockerCliAgainstFakeEngineTest {
    static String docker;

    @TempDir
    Path tmp;
    FakeEngine engine;
    CliContainerRuntime cli;

    @BeforeAll
    static void findDocker() {
        docker = System.getenv().getOrDefault("PATH", "").isEmpty() ? null : which("docker");
        assumeTrue(docker != null, "no docker CLI on PATH");
    }

    static String which(String name) {
        for (String dir : System.getenv("PATH").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }

    @BeforeEach
    void up() throws Exception {
        engine = new FakeEngine().add("tts", false).add("llm", true);
        cli = runtime(engine.host(), Duration.ofSeconds(20));
    }

    private CliContainerRuntime runtime(String host, Duration timeout) {
        // DOCKER_CONFIG in a temp dir: no user config, contexts or credential helpers leak into the test
        return new CliContainerRuntime(docker, timeout, Map.of("DOCKER_HOST", host, "DOCKER_CONFIG", tmp.toString()), null);
    }

    @AfterEach
    void down() {
        engine.close();
    }

    @Test
    void inspectStartStopPsAndLogsGoThroughTheCli() throws Exception {
        assertThat(cli.ping()).isEqualTo("28.2.2");
        assertThat(cli.running()).containsExactly("llm");
        ContainerState st = cli.inspect("tts");
        assertThat(st.running()).isFalse();
        assertThat(st.status()).isEqualTo("exited");
        assertThat(st.restartPolicy()).isEqualTo("no");
        assertThat(st.portBindings()).containsExactly("127.0.0.1:8006");

        cli.start("tts");
        assertThat(engine.isRunning("tts")).isTrue();
        assertThat(cli.inspect("tts").running()).isTrue();
        assertThat(engine.count("POST", "/containers/tts/start")).isEqualTo(1);

        cli.stop("tts", Duration.ofSeconds(3));
        assertThat(engine.isRunning("tts")).isFalse();
        assertThat(engine.requests).anyMatch(r -> r.startsWith("POST ") && r.contains("/containers/tts/stop") && r.contains("t=3"));

        assertThat(cli.logs("llm", 50)).contains("loading llm", "warning: slow disk");
        assertThat(engine.requests).anyMatch(r -> r.contains("/logs?") && r.contains("tail=50"));
    }

    @Test
    void aMissingContainerIsNotFound() {
        assertThatThrownBy(() -> cli.inspect("ghost")).isInstanceOfSatisfying(DockerException.class,
                e -> assertThat(e.kind()).isEqualTo(DockerException.Kind.NOT_FOUND));
        assertThatThrownBy(() -> cli.start("ghost")).isInstanceOfSatisfying(DockerException.class,
                e -> assertThat(e.kind()).isEqualTo(DockerException.Kind.NOT_FOUND));
    }

    @Test
    void aDaemonThatIsNotThereIsDaemonUnavailable() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        CliContainerRuntime down = runtime("tcp://127.0.0.1:" + port, Duration.ofSeconds(20));
        assertThatThrownBy(down::running).isInstanceOfSatisfying(DockerException.class, e -> {
            assertThat(e.kind()).isEqualTo(DockerException.Kind.DAEMON_UNAVAILABLE);
            assertThat(e.getMessage()).contains("Cannot connect to the Docker daemon");
        });
    }

    @Test
    void aHangingDaemonHitsTheCommandTimeoutAndTheCliIsKilled() throws Exception {
        engine.startGate = new CountDownLatch(1);
        CliContainerRuntime slow = runtime(engine.host(), Duration.ofMillis(1500));
        try {
            assertThatThrownBy(() -> slow.start("tts")).isInstanceOfSatisfying(DockerException.class,
                    e -> assertThat(e.kind()).isEqualTo(DockerException.Kind.TIMEOUT));
        } finally {
            engine.startGate.countDown();
        }
        // the daemon still carries the start out although its client was killed: re-inspecting tells the truth
        for (int i = 0; i < 1000 && !engine.isRunning("tts"); i++) Thread.onSpinWait();
        assertThat(engine.requests).anyMatch(r -> r.contains("/containers/tts/start"));
        assertThat(cli.inspect("tts").running()).isEqualTo(engine.isRunning("tts"));
    }

    @Test
    void invalidContainerNamesNeverReachTheCli() {
        assertThatThrownBy(() -> cli.start("tts; rm -rf /")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cli.stop("-t", Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThat(engine.requests).isEmpty();
    }

    @Test
    void containerEventsStreamThroughTheCliUntilClosed() throws Exception {
        try (java.io.InputStream in = cli.events()) {
            java.io.BufferedReader r = new java.io.BufferedReader(new java.io.InputStreamReader(in, java.nio.charset.StandardCharsets.UTF_8));
            engine.emit("die", "llm");
            String line = r.readLine();
            assertThat(line).contains("\"Action\":\"die\"", "\"name\":\"llm\"");
        }
        assertThat(engine.requests).anyMatch(q -> q.startsWith("GET ") && q.contains("/events") && q.contains("filters="));
    }
}
