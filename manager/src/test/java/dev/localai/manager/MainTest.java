package dev.localai.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.localai.manager.api.ManagerServer;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.lifecycle.ModelManager;
import dev.localai.manager.lifecycle.ModelState;
import dev.localai.manager.testing.FakeEngine;
import dev.localai.manager.testing.FakeUpstream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line, the listen guard, and the whole daemon driving the real docker CLI against a fake engine. */
class MainTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    /**
     * A run that only prints its usage marks the JVM archive the launcher told it it writes ({@code NAME.discard}),
     * so the next start writes a new one; without the property nothing is written.
     */
    @Test
    void aHelpRunMarksItsJvmArchiveToBeDiscarded(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path archive = tmp.resolve("manager-1-2.aot");
        String before = System.getProperty(Main.JVM_ARCHIVE_PROPERTY);
        java.io.PrintStream out = System.out;
        try {
            System.setOut(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()));
            System.clearProperty(Main.JVM_ARCHIVE_PROPERTY);
            Main.main(new String[] {"--help"});
            try (var files = java.nio.file.Files.list(tmp)) {
                assertThat(files.toList()).isEmpty();
            }
            System.setProperty(Main.JVM_ARCHIVE_PROPERTY, archive.toString());
            Main.main(new String[] {"--help"});
            assertThat(tmp.resolve("manager-1-2.aot.discard")).exists();
        } finally {
            System.setOut(out);
            if (before == null) {
                System.clearProperty(Main.JVM_ARCHIVE_PROPERTY);
            } else {
                System.setProperty(Main.JVM_ARCHIVE_PROPERTY, before);
            }
        }
    }

    @Test
    void parsesTheDocumentedCommandLine() {
        Main.Args a = Main.parse(new String[] {"--config", "models.json", "--listen", "127.0.0.1:9000", "--docker",
                "/usr/bin/docker", "--state-dir=/var/lib/m"});
        assertThat(a.config()).isEqualTo(Path.of("models.json"));
        assertThat(a.listen()).isEqualTo("127.0.0.1:9000");
        assertThat(a.docker()).isEqualTo("/usr/bin/docker");
        assertThat(a.stateDir()).isEqualTo(Path.of("/var/lib/m"));
        assertThat(a.allowInsecure()).isFalse();
        assertThatThrownBy(() -> Main.parse(new String[] {})).hasMessageContaining("--config is required");
        assertThatThrownBy(() -> Main.parse(new String[] {"--config"})).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> Main.parse(new String[] {"--config", "x", "--bogus"})).hasMessageContaining("unknown option --bogus");
    }

    @Test
    void refusesToListenBeyondLoopbackWithoutKeysUnlessTold() {
        ManagerConfig open = new ConfigLoader(n -> null).parse("{\"a\": {\"container\": \"a\", \"port\": 1}}");
        ManagerServer.checkListenSecurity("127.0.0.1", open, false);
        ManagerServer.checkListenSecurity("localhost", open, false);
        ManagerServer.checkListenSecurity("::1", open, false);
        assertThatThrownBy(() -> ManagerServer.checkListenSecurity("0.0.0.0", open, false))
                .hasMessageContaining("refusing to listen on 0.0.0.0 without API keys");
        ManagerServer.checkListenSecurity("0.0.0.0", open, true);
        ManagerConfig keyed = new ConfigLoader(n -> null).parse(
                "{\"version\": 2, \"auth\": {\"api_keys\": [\"k\"]}, \"models\": {\"a\": {\"container\": \"a\", \"port\": 1}}}");
        ManagerServer.checkListenSecurity("0.0.0.0", keyed, false);
    }

    @Test
    void theDaemonDrivesTheRealDockerCliAndKeepsGamingModeAcrossRestarts() throws Exception {
        String docker = which("docker");
        assumeTrue(docker != null, "no docker CLI on PATH");
        try (FakeEngine engine = new FakeEngine().add("tts", false).add("llm", false);
             FakeUpstream tts = new FakeUpstream(() -> engine.isRunning("tts"));
             FakeUpstream llm = new FakeUpstream(() -> engine.isRunning("llm"))) {
            Path config = tmp.resolve("models.json");
            Files.writeString(config, """
                {"version": 2,
                 "docker": {"command_timeout_s": 20, "env": {"DOCKER_HOST": "%s", "DOCKER_CONFIG": "%s"}},
                 "gpu": {"probe": "none"},
                 "gaming_mode": {"drain_timeout_s": 0.5, "vram_wait_s": 0.1},
                 "defaults": {"start_timeout_s": 20, "stop_timeout_s": 1},
                 "models": {
                   "chatterbox-turbo": {"container": "tts", "port": %d, "type": "tts", "keep_warm": true},
                   "llm": {"container": "llm", "port": %d, "type": "text"}
                 }}""".formatted(engine.host(), tmp.toString(), tts.port(), llm.port()));
            Path state = tmp.resolve("state");
            Main.Args args = Main.parse(new String[] {"--config", config.toString(), "--listen", "127.0.0.1:0",
                    "--docker", docker, "--state-dir", state.toString()});
            ModelManager.Options opts = new ModelManager.Options(Duration.ofMillis(20), Duration.ZERO, false, InstantSource.system());
            HttpClient http = HttpClient.newHttpClient();

            try (Main.Running r = Main.run(args, opts)) {
                await(r, "chatterbox-turbo", ModelState.READY);
                assertThat(engine.count("POST", "/containers/tts/start")).isEqualTo(1);
                String base = "http://127.0.0.1:" + r.server().port();
                HttpResponse<byte[]> speech = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/audio/speech"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"chatterbox-turbo\",\"input\":\"hi\"}")).build(),
                        HttpResponse.BodyHandlers.ofByteArray());
                assertThat(speech.body()).isEqualTo(FakeUpstream.AUDIO);
                // on demand: a cold start through `docker start`
                HttpResponse<String> chat = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/embeddings"))
                        .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"llm\",\"input\":\"x\"}")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(chat.statusCode()).isEqualTo(200);
                assertThat(engine.isRunning("llm")).isTrue();

                // the TTS container dies: `docker events` reports it, inspection confirms, no liveness tick needed
                engine.crash("tts", 137);
                engine.emit("die", "tts");
                await(r, "chatterbox-turbo", ModelState.FAILED);
                assertThat(r.manager().view("chatterbox-turbo").lastError()).contains("exit code 137");

                HttpResponse<String> on = http.send(HttpRequest.newBuilder(URI.create(base + "/gaming-mode?enable=true"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                JsonNode g = JSON.readTree(on.body());
                assertThat(g.get("safe_to_game").asBoolean()).isTrue();
                assertThat(engine.isRunning("tts")).isFalse();
                assertThat(engine.isRunning("llm")).isFalse();
                assertThat(engine.requests).anyMatch(q -> q.contains("/containers/llm/stop"));
            }
            assertThat(Files.readString(state.resolve("manager-state.json"))).contains("\"gaming_mode\" : true");

            try (Main.Running r = Main.run(args, opts)) {
                assertThat(r.manager().gaming()).isTrue();
                r.manager().tick();
                assertThat(r.manager().view("chatterbox-turbo").state()).isEqualTo(ModelState.STOPPED);
                assertThat(engine.count("POST", "/containers/tts/start")).as("no keep-warm start under a game").isEqualTo(1);
                String base = "http://127.0.0.1:" + r.server().port();
                HttpResponse<String> st = http.send(HttpRequest.newBuilder(URI.create(base + "/status")).build(),
                        HttpResponse.BodyHandlers.ofString());
                assertThat(JSON.readTree(st.body()).get("gaming_mode").asBoolean()).isTrue();
                HttpResponse<String> off = http.send(HttpRequest.newBuilder(URI.create(base + "/gaming-mode?enable=false"))
                        .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(off.statusCode()).isEqualTo(202);
                await(r, "chatterbox-turbo", ModelState.READY);
                assertThat(engine.count("POST", "/containers/tts/start")).isEqualTo(2);
            }
        }
    }

    private static void await(Main.Running r, String id, ModelState s) {
        assertThat(r.manager().awaitCondition(vs -> vs.stream().anyMatch(v -> v.spec().id().equals(id) && v.state() == s),
                Duration.ofSeconds(20))).as(id + " reaches " + s).isTrue();
    }

    static String which(String name) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(java.io.File.pathSeparator)) {
            Path p = Path.of(dir, name);
            if (Files.isExecutable(p)) return p.toString();
        }
        return null;
    }
}
