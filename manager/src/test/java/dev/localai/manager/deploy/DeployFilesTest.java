package dev.localai.manager.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.localai.manager.config.ConfigLoader;
import dev.localai.manager.config.ManagerConfig;
import dev.localai.manager.config.ModelSpec;
import dev.localai.manager.config.ModelType;
import dev.localai.tts.api.http.CrossSiteGuard;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The home-lab deployment files in {@code deploy/}: {@code models.json} loads with the manager's own loader and
 * names the design's containers; the two compose files agree with it (container names, ports, GPU reservation).
 * There is no Docker engine in the build, so the compose files are checked by parsing them, not by running them.
 */
class DeployFilesTest {
    static final Path DEPLOY = Path.of("..", "deploy");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static ManagerConfig models() throws Exception {
        return models(Map.of());
    }

    static ManagerConfig models(Map<String, String> more) throws Exception {
        Map<String, String> env = new java.util.HashMap<>(more);
        env.put("LOCALAI_API_KEY", "k-inference");
        env.put("LOCALAI_ADMIN_KEY", "k-admin");
        return new ConfigLoader(env::get).parse(Files.readString(DEPLOY.resolve("models.json")));
    }

    @Test
    void modelsJsonHasTheDesignsContainers() throws Exception {
        ManagerConfig cfg = models();
        assertThat(cfg.warnings()).isEmpty();
        Map<String, ModelSpec> m = cfg.models();
        assertThat(m).containsOnlyKeys("chatterbox-turbo", "qwen2.5-14b-awq", "llama3-8b", "qwen-image-edit");

        ModelSpec tts = m.get("chatterbox-turbo");
        assertThat(tts.container()).isEqualTo("chatterbox-tts");
        assertThat(tts.port()).isEqualTo(8006);
        assertThat(tts.type()).isEqualTo(ModelType.TTS);
        assertThat(tts.keepWarm()).isTrue();
        assertThat(tts.healthPath()).isEqualTo("/health/ready");
        for (String alias : new String[] {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
            assertThat(cfg.resolve(alias)).as(alias).contains(tts);

        assertThat(m.get("qwen2.5-14b-awq").container()).isEqualTo("vllm-qwen14b-awq");
        assertThat(m.get("qwen2.5-14b-awq").port()).isEqualTo(8002);
        assertThat(m.get("qwen2.5-14b-awq").keepWarm()).isTrue();
        assertThat(m.get("llama3-8b").container()).isEqualTo("vllm-llama3-8b");
        assertThat(m.get("llama3-8b").port()).isEqualTo(8001);
        assertThat(m.get("qwen-image-edit").container()).isEqualTo("qwen-image-server");
        assertThat(m.get("qwen-image-edit").port()).isEqualTo(8005);

        // listening on the LAN, so keys are required (from the environment)
        assertThat(cfg.server().listen()).isEqualTo("0.0.0.0:8000");
        assertThat(cfg.auth().enabled()).isTrue();
        assertThat(cfg.auth().adminKeys()).containsExactly("k-admin");
    }

    @Test
    void normalComposeRunsTheManagerAndTheGpuTtsContainerOfModelsJson() throws Exception {
        JsonNode compose = YAML.readTree(DEPLOY.resolve("docker-compose.yml").toFile());
        JsonNode services = compose.path("services");
        assertThat(names(services)).containsExactlyInAnyOrder("manager", "chatterbox-tts");

        JsonNode manager = services.path("manager");
        assertThat(manager.path("network_mode").asText()).isEqualTo("host");
        assertThat(texts(manager.path("volumes"))).contains("/var/run/docker.sock:/var/run/docker.sock",
                "./models.json:/etc/localai/models.json:ro");
        assertThat(texts(manager.path("command"))).containsSequence("--config", "/etc/localai/models.json");
        assertThat(Files.isRegularFile(DEPLOY.resolve(manager.path("build").path("dockerfile").asText()
                .replaceFirst("^deploy/", "")))).isTrue();

        ModelSpec tts = models().models().get("chatterbox-turbo");
        JsonNode service = services.path("chatterbox-tts");
        assertThat(service.path("container_name").asText()).isEqualTo(tts.container());
        assertThat(texts(service.path("ports"))).containsExactly("127.0.0.1:" + tts.port() + ":8006");
        assertThat(service.path("environment").path("TTS_PORT").asText()).isEqualTo("8006");
        assertThat(service.path("build").path("dockerfile").asText()).isEqualTo("tts-server/Dockerfile");
        assertThat(service.path("build").path("args").path("VARIANT").asText()).isEqualTo("cuda");
        JsonNode gpu = service.path("deploy").path("resources").path("reservations").path("devices").path(0);
        assertThat(gpu.path("driver").asText()).isEqualTo("nvidia");
        assertThat(texts(gpu.path("capabilities"))).containsExactly("gpu");
        // the manager owns the container's lifecycle (keep-warm, gaming mode): docker must not restart it
        assertThat(service.path("restart").asText()).isEqualTo("no");
    }

    @Test
    void gamingComposeRunsTtsStandaloneWithoutTheGpu() throws Exception {
        JsonNode services = YAML.readTree(DEPLOY.resolve("docker-compose.gaming.yml").toFile()).path("services");
        assertThat(names(services)).containsExactly("chatterbox-tts");
        JsonNode tts = services.path("chatterbox-tts");
        assertThat(tts.path("container_name").asText()).isEqualTo(models().models().get("chatterbox-turbo").container());
        assertThat(tts.path("environment").path("TTS_DEVICE").asText()).isEqualTo("cpu");
        assertThat(tts.path("build").path("args").path("VARIANT").asText()).isEqualTo("cpu");
        assertThat(tts.path("deploy").path("resources").path("reservations").isMissingNode()).isTrue();
        assertThat(texts(tts.path("ports"))).containsExactly("0.0.0.0:8006:8006");
    }

    @Test
    void theContainersListenOnEveryInterfaceAndTakeTheirAllowedHostsFromTheEnvironment() throws Exception {
        JsonNode normal = YAML.readTree(DEPLOY.resolve("docker-compose.yml").toFile()).path("services");
        JsonNode gaming = YAML.readTree(DEPLOY.resolve("docker-compose.gaming.yml").toFile()).path("services");

        // the manager: 0.0.0.0 on the port models.json names, by flag in compose and in the image
        List<String> command = texts(normal.path("manager").path("command"));
        assertThat(command).containsSequence("--listen", "0.0.0.0:8000");
        assertThat(models().server().listen()).isEqualTo("0.0.0.0:8000");
        String dockerfile = Files.readString(DEPLOY.resolve("manager.Dockerfile"));
        assertThat(dockerfile).containsPattern("CMD \\[.*\"--listen\", \"0\\.0\\.0\\.0:8000\"\\]");
        JsonNode env = normal.path("manager").path("environment");
        assertThat(env.path("MANAGER_ALLOWED_HOSTS").asText()).isEqualTo("${MANAGER_ALLOWED_HOSTS:-}");
        assertThat(env.path("MANAGER_ALLOWED_ORIGINS").asText()).isEqualTo("${MANAGER_ALLOWED_ORIGINS:-}");

        // tts-server: 0.0.0.0 in the image and in both compose files; its allowed hosts from the environment
        assertThat(Files.readString(Path.of("..", "tts-server", "Dockerfile"))).containsPattern("TTS_HOST=0\\.0\\.0\\.0\\b");
        for (JsonNode tts : List.of(normal.path("chatterbox-tts"), gaming.path("chatterbox-tts"))) {
            assertThat(tts.path("environment").path("TTS_HOST").asText()).isEqualTo("0.0.0.0");
            assertThat(tts.path("environment").path("TTS_ALLOWED_HOSTS").asText()).isEqualTo("${TTS_ALLOWED_HOSTS:-}");
            assertThat(tts.path("environment").path("TTS_ALLOWED_ORIGINS").asText())
                    .isEqualTo("${TTS_ALLOWED_ORIGINS:-}");
        }
        // the placeholder is documented where it is set, with an example
        for (String file : List.of("docker-compose.yml", "docker-compose.gaming.yml", "manager.Dockerfile"))
            assertThat(Files.readString(DEPLOY.resolve(file))).as(file).containsPattern("ALLOWED_HOSTS=gaming-pc\\.lan,dashboard\\.lan");
    }

    @Test
    void theServerImageKeepsTheJvmClassDataArchiveOnTheDataVolumeWithTheLaunchersFlags() throws Exception {
        String dockerfile = Files.readString(Path.of("..", "tts-server", "Dockerfile"));
        java.util.regex.Matcher opts = java.util.regex.Pattern.compile("JAVA_OPTS=\"([^\"]*)\"").matcher(dockerfile);
        assertThat(opts.find()).as("JAVA_OPTS in the image").isTrue();
        List<String> flags = List.of(opts.group(1).split(" "));
        // the archive on the volume (/data survives the container), written by the JVM at exit, its notes off stderr
        assertThat(dockerfile).containsPattern("VOLUME \\[\"/data\"\\]");
        assertThat(flags).contains("-XX:+AutoCreateSharedArchive", "-XX:SharedArchiveFile=/data/jvm/tts-server.jsa");
        // the JVM's notes on it off stderr, as ./tts keeps them (bin/jvm-env.sh's tts_cds_flags, after the archive)
        String launcher = Files.readString(Path.of("..", "bin", "jvm-env.sh"));
        // (the first _quiet: a class-data archive's; the second is an AOT cache's, Java 25 and later)
        java.util.regex.Matcher quiet = java.util.regex.Pattern.compile("_quiet=\"([^\"]*)\"").matcher(launcher);
        assertThat(quiet.find()).as("tts_cds_flags' flags").isTrue();
        assertThat(quiet.group(1)).contains("-Xlog:cds=off", "-Xlog:cds=off:stderr");
        assertThat(launcher).contains("echo \"-XX:SharedArchiveFile=$_use $_quiet\"");
        assertThat(flags).contains(quiet.group(1).split(" "));
        // the JVM does not make the archive's directory: the entrypoint does, before java becomes PID 1
        assertThat(dockerfile).containsPattern("ENTRYPOINT \\[\"/bin/sh\", \"-c\", \"mkdir -p /data/jvm 2>/dev/null; exec java ");
    }

    @Test
    void aDeploymentReachedByNameThroughNginxIsAllowedOnceItsNameIsSet() throws Exception {
        // nginx passes the browser's Host ($http_host); the deployed models.json leaves the list to the environment
        CrossSiteGuard.Route plain = CrossSiteGuard.Route.PLAIN;
        ManagerConfig unset = models();
        CrossSiteGuard before = CrossSiteGuard.of("0.0.0.0", unset.server().allowedHosts(), unset.server().allowedOrigins(),
                List.of());
        assertThat(before.check("GET", h -> h.equals("Host") ? "dashboard.lan" : null, plain))
                .hasValueSatisfying(e -> assertThat(e.error().code()).isEqualTo(CrossSiteGuard.HOST_NOT_ALLOWED));
        assertThat(before.check("GET", h -> h.equals("Host") ? "192.168.1.20:8000" : null, plain)).isEmpty();

        ManagerConfig set = models(Map.of("MANAGER_ALLOWED_HOSTS", "gaming-pc.lan, dashboard.lan"));
        CrossSiteGuard after = CrossSiteGuard.of("0.0.0.0", set.server().allowedHosts(), set.server().allowedOrigins(),
                List.of());
        assertThat(after.check("GET", h -> h.equals("Host") ? "dashboard.lan" : null, plain)).isEmpty();
        assertThat(after.check("GET", h -> h.equals("Host") ? "gaming-pc.lan:8000" : null, plain)).isEmpty();
        // the dashboard's page, same-origin through nginx, may change state (a speech POST)
        assertThat(after.check("POST", h -> switch (h) {
            case "Host" -> "dashboard.lan";
            case "Origin" -> "http://dashboard.lan";
            case "Content-Type" -> "application/json";
            case "Sec-Fetch-Site" -> "same-origin";
            default -> null;
        }, CrossSiteGuard.Route.JSON)).isEmpty();
        assertThat(after.check("GET", h -> h.equals("Host") ? "evil.example" : null, plain)).isPresent();
    }

    @Test
    void theHomeLabGuideSaysWhatToSet() throws Exception {
        String guide = Files.readString(Path.of("..", "docs", "homelab.md"));
        assertThat(guide).contains("MANAGER_ALLOWED_HOSTS", "TTS_ALLOWED_HOSTS", "host_not_allowed", "0.0.0.0");
    }

    @Test
    void bothSetupsShareOneModelVolume() throws Exception {
        JsonNode normal = YAML.readTree(DEPLOY.resolve("docker-compose.yml").toFile());
        JsonNode gaming = YAML.readTree(DEPLOY.resolve("docker-compose.gaming.yml").toFile());
        assertThat(normal.path("volumes").path("tts-data").path("name").asText())
                .isEqualTo(gaming.path("volumes").path("tts-data").path("name").asText())
                .isNotEmpty();
    }

    private static List<String> names(JsonNode object) {
        List<String> out = new ArrayList<>();
        object.fieldNames().forEachRemaining(out::add);
        return out;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void theRepositorysModelsJsonMapsOpenAisSpeechModelsToTheTtsModel() throws Exception {
        ManagerConfig cfg = new ConfigLoader(n -> null).parse(Files.readString(Path.of("..", "models.json")));
        ModelSpec tts = cfg.models().get("chatterbox-turbo");
        for (String alias : new String[] {"tts-1", "tts-1-hd", "gpt-4o-mini-tts"})
            assertThat(cfg.resolve(alias)).as(alias).contains(tts);
    }
}
