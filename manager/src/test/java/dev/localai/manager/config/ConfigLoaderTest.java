package dev.localai.manager.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Both models.json forms, defaults, and validation messages that name the field. */
class ConfigLoaderTest {
    private static final ConfigLoader LOADER = new ConfigLoader(Map.of("MANAGER_API_KEY", "k1", "MANAGER_ADMIN_KEY", "k2")::get);

    private static ManagerConfig parse(String json) {
        return LOADER.parse(json);
    }

    private static String v2(String models) {
        return "{\"version\": 2, \"models\": {" + models + "}}";
    }

    @Test
    void theRepositoryModelsJsonIsTheDesignsFlatForm() {
        ManagerConfig c = ConfigLoader.load(Path.of("..", "models.json"));
        assertThat(c.version()).isEqualTo(1);
        assertThat(c.models().keySet()).containsExactly("chatterbox-turbo", "qwen2.5-14b-awq", "llama3-8b", "qwen-image-edit");
        ModelSpec tts = c.models().get("chatterbox-turbo");
        assertThat(tts.container()).isEqualTo("chatterbox-tts");
        assertThat(tts.port()).isEqualTo(8006);
        assertThat(tts.type()).isEqualTo(ModelType.TTS);
        assertThat(tts.keepWarm()).isTrue();
        assertThat(tts.upstream()).isEqualTo(URI.create("http://127.0.0.1:8006"));
        assertThat(tts.gpu()).isTrue();
        assertThat(tts.healthPath()).as("tts-server is ready only once the model is loaded").isEqualTo("/health/ready");
        assertThat(c.models().get("llama3-8b").keepWarm()).isFalse();
        assertThat(c.models().get("llama3-8b").idleTimeout()).isEqualTo(Duration.ofSeconds(600));
        assertThat(c.keepWarmInPriorityOrder()).extracting(ModelSpec::id).containsExactly("chatterbox-turbo", "qwen2.5-14b-awq");
        assertThat(c.server().listen()).isEqualTo("127.0.0.1:8000");
        assertThat(c.auth().enabled()).isFalse();
        assertThat(c.models().values()).allSatisfy(m -> assertThat(m.upstream().getHost()).isEqualTo("127.0.0.1"));
    }

    @Test
    void theDocumentedVersionedExampleLoads() throws Exception {
        ManagerConfig c = LOADER.parse(Files.readString(Path.of("dist", "models.example.json")));
        assertThat(c.version()).isEqualTo(2);
        assertThat(c.auth().apiKeys()).containsExactly("k1");
        assertThat(c.auth().adminKeys()).containsExactly("k2");
        assertThat(c.gpu().vramBudgetMb()).isEqualTo(23000);
        ModelSpec tts = c.resolve("tts-1").orElseThrow();
        assertThat(tts.id()).isEqualTo("chatterbox-turbo");
        assertThat(tts.vramMb()).isEqualTo(1536);
        assertThat(tts.fallback()).containsExactly("chatterbox-turbo-cpu", "server-cpu");
        assertThat(tts.startTimeout()).isEqualTo(Duration.ofSeconds(120));
        assertThat(c.models().get("llama3-8b").exclusiveGroups()).containsExactly("llm");
        assertThat(c.models().get("chatterbox-turbo-cpu").gpu()).isFalse();
        assertThat(c.models().get("qwen2.5-14b-awq").upstreamModel()).isEqualTo("Qwen/Qwen2.5-14B-Instruct-AWQ");
        assertThat(c.remotes()).containsKey("server-cpu");
        assertThat(c.gaming().drainTimeout()).isEqualTo(Duration.ofSeconds(15));
        assertThat(c.keepWarmInPriorityOrder()).extracting(ModelSpec::id).containsExactly("chatterbox-turbo", "qwen2.5-14b-awq");
    }

    @Test
    void richerFieldsAndDefaults() {
        ManagerConfig c = parse("""
            {"version": 2,
             "defaults": {"idle_timeout_s": 30, "health_path": "/v1/models", "gpu": true},
             "models": {
               "a": {"container": "a", "port": 9001, "type": "llm", "vram_gb": 1.5, "idle_timeout_s": 0, "priority": 7,
                     "liveness": {"interval_s": 2, "timeout_s": 1, "failure_threshold": 5},
                     "restart": {"on_failure": false, "backoff_initial_s": 1, "backoff_max_s": 4}},
               "b": {"container": "b", "url": "http://localhost:9100/base/", "type": "embedding"}
             }}""");
        ModelSpec a = c.models().get("a");
        assertThat(a.type()).isEqualTo(ModelType.TEXT);
        assertThat(a.vramMb()).isEqualTo(1536);
        assertThat(a.idleTimeout()).isZero();
        assertThat(a.healthPath()).isEqualTo("/v1/models");
        assertThat(a.liveness().failureThreshold()).isEqualTo(5);
        assertThat(a.restart().onFailure()).isFalse();
        assertThat(a.backoff(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(a.backoff(3)).isEqualTo(Duration.ofSeconds(4));
        assertThat(a.backoff(10)).isEqualTo(Duration.ofSeconds(4));
        ModelSpec b = c.models().get("b");
        assertThat(b.upstream()).isEqualTo(URI.create("http://localhost:9100/base"));
        assertThat(b.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void environmentReferencesAreSubstitutedAndMissingOnesNamed() {
        assertThatThrownBy(() -> new ConfigLoader(n -> null).parse(
                "{\"version\":2,\"auth\":{\"api_keys\":[\"${env:NOPE}\"]},\"models\":{\"a\":{\"container\":\"a\",\"port\":1}}}"))
                .isInstanceOfSatisfying(ConfigException.class, e -> {
                    assertThat(e.field()).isEqualTo("auth.api_keys[0]");
                    assertThat(e.getMessage()).contains("NOPE", "not set");
                });
    }

    @Test
    void flatFormWarnsAboutUnknownFieldsInsteadOfFailing() {
        ManagerConfig c = parse("{\"tts\": {\"container\": \"tts\", \"port\": 8006, \"colour\": \"red\"}}");
        assertThat(c.warnings()).containsExactly("tts.colour: unknown field ignored");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
        missing container        | {"tts": {"port": 8006}}                                                   | tts.container            | is required
        missing port             | {"tts": {"container": "t"}}                                               | tts.port                 | is required
        port out of range        | {"tts": {"container": "t", "port": 70000}}                                | tts.port                 | between 1 and 65535
        port not a number        | {"tts": {"container": "t", "port": "8006"}}                               | tts.port                 | integer
        bad container name       | {"tts": {"container": "t; rm -rf /", "port": 1}}                         | tts.container            | not a valid container name
        unknown type             | {"tts": {"container": "t", "port": 1, "type": "video"}}                   | tts.type                 | unknown type
        keep_warm not boolean    | {"tts": {"container": "t", "port": 1, "keep_warm": "yes"}}                | tts.keep_warm            | true or false
        model not an object      | {"tts": 5}                                                                | tts                      | must be an object
        duplicate port           | {"a": {"container": "a", "port": 1}, "b": {"container": "b", "port": 1}} | b.port                   | already used by model "a"
        duplicate container      | {"a": {"container": "a", "port": 1}, "b": {"container": "a", "port": 2}} | b.container              | already used
        empty file               | {}                                                                        | ''                       | no models defined
        not an object            | [1, 2]                                                                    | ''                       | JSON object
        wrong version            | {"version": 3, "models": {}}                                              | version                  | only version 2
        unknown v2 field         | {"version": 2, "models": {"a": {"container": "a", "port": 1, "colour": 1}}} | models.a.colour        | unknown field
        unknown top-level field  | {"version": 2, "modles": {}}                                              | modles                   | unknown field
        models missing           | {"version": 2}                                                            | models                   | is required
        negative start timeout   | {"version": 2, "models": {"a": {"container": "a", "port": 1, "start_timeout_s": -1}}} | models.a.start_timeout_s | positive
        negative idle timeout    | {"version": 2, "models": {"a": {"container": "a", "port": 1, "idle_timeout_s": -5}}}  | models.a.idle_timeout_s  | >= 0
        vram both units          | {"version": 2, "models": {"a": {"container": "a", "port": 1, "vram_mb": 1, "vram_gb": 1}}} | models.a.vram_gb  | either
        bad health path          | {"version": 2, "models": {"a": {"container": "a", "port": 1, "health_path": "health"}}} | models.a.health_path | start with /
        unknown fallback         | {"version": 2, "models": {"a": {"container": "a", "port": 1, "fallback": ["zz"]}}}     | models.a.fallback[0] | neither a model
        self fallback            | {"version": 2, "models": {"a": {"container": "a", "port": 1, "fallback": ["a"]}}}      | models.a.fallback[0] | itself
        duplicate alias          | {"version": 2, "models": {"a": {"container": "a", "port": 1, "aliases": ["x"]}, "b": {"container": "b", "port": 2, "aliases": ["x"]}}} | models.b.aliases[0] | already used
        alias equals other id    | {"version": 2, "models": {"a": {"container": "a", "port": 1}, "b": {"container": "b", "port": 2, "aliases": ["a"]}}} | models.b.aliases[0] | already used
        warm models share group  | {"version": 2, "models": {"a": {"container": "a", "port": 1, "keep_warm": true, "exclusive_groups": ["llm"]}, "b": {"container": "b", "port": 2, "keep_warm": true, "exclusive_groups": ["llm"]}}} | models.b.exclusive_groups | share an exclusive group
        warm models over budget  | {"version": 2, "gpu": {"vram_budget_mb": 1000}, "models": {"a": {"container": "a", "port": 1, "keep_warm": true, "vram_mb": 900}, "b": {"container": "b", "port": 2, "keep_warm": true, "vram_mb": 200}}} | gpu.vram_budget_mb | keep-warm models need 1100 MiB
        model over budget        | {"version": 2, "gpu": {"vram_budget_mb": 1000}, "models": {"a": {"container": "a", "port": 1, "vram_mb": 2000}}} | models.a.vram_mb | exceeds the budget
        bad budget               | {"version": 2, "gpu": {"vram_budget_mb": "lots"}, "models": {"a": {"container": "a", "port": 1}}} | gpu.vram_budget_mb | auto
        bad listen               | {"version": 2, "server": {"listen": "8000"}, "models": {"a": {"container": "a", "port": 1}}} | server.listen | host:port
        bad url                  | {"version": 2, "models": {"a": {"container": "a", "url": "ftp://x"}}}                 | models.a.url | http(s) URL
        duplicate id (flat)      | {"a": {"container": "a", "port": 1}, "a": {"container": "b", "port": 2}} | a                        | defined twice
        duplicate id (v2)        | {"version": 2, "models": {"a": {"container": "a", "port": 1}, "a": {"container": "b", "port": 2}}} | models.a | defined twice
        url and port together    | {"version": 2, "models": {"a": {"container": "a", "port": 1, "url": "http://127.0.0.1:1"}}} | models.a.url | not both
        huge start timeout       | {"version": 2, "models": {"a": {"container": "a", "port": 1, "start_timeout_s": 1e300}}} | models.a.start_timeout_s | at most
        huge idle timeout        | {"version": 2, "models": {"a": {"container": "a", "port": 1, "idle_timeout_s": 1e300}}}  | models.a.idle_timeout_s  | at most
        huge default timeout     | {"version": 2, "defaults": {"queue_timeout_s": 1e300}, "models": {"a": {"container": "a", "port": 1}}} | defaults.queue_timeout_s | at most
        bad allowed origin       | {"version": 2, "server": {"allowed_origins": ["evil.example"]}, "models": {"a": {"container": "a", "port": 1}}} | server.allowed_origins | origin
        backoff max below initial | {"version": 2, "models": {"a": {"container": "a", "port": 1, "restart": {"backoff_initial_s": 10, "backoff_max_s": 5}}}} | models.a.restart.backoff_max_s | >= backoff_initial_s
        """)
    void invalidConfigsNameTheField(String what, String json, String field, String message) {
        assertThatThrownBy(() -> parse(json)).as(what).isInstanceOfSatisfying(ConfigException.class, e -> {
            assertThat(e.field()).isEqualTo(field);
            assertThat(e.getMessage()).contains(message);
        });
    }

    @Test
    void invalidJsonReportsTheLine() {
        assertThatThrownBy(() -> parse("{\n  \"tts\": {\"port\": 1,,}\n}")).isInstanceOfSatisfying(ConfigException.class,
                e -> assertThat(e.getMessage()).contains("not valid JSON", "line 2"));
    }

    @Test
    void anUnreadableFileIsAConfigError(@org.junit.jupiter.api.io.TempDir Path tmp) {
        assertThatThrownBy(() -> ConfigLoader.load(tmp.resolve("missing.json"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("cannot read");
    }
}
