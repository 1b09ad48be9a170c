package dev.localai.tts.server.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {
    @TempDir
    Path tmp;

    @Test
    void theBundledApplicationYamlGivesTheDesignDefaults() {
        ServerConfig c = ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of("HOME", "/home/someone"));
        assertThat(c.port()).isEqualTo(8006);
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.engine().model()).isEqualTo("ResembleAI/chatterbox-turbo");
        assertThat(c.engine().device()).isEqualTo("auto");
        assertThat(c.engine().voicesDir()).as("the tts CLI's library")
                .isEqualTo(Path.of("/home/someone/.local/share/localai-tts/voices"));
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of("XDG_DATA_HOME", "/xdg"))
                .engine().voicesDir()).isEqualTo(Path.of("/xdg/localai-tts/voices"));
        assertThat(c.engine().allowDownload()).isTrue();
        assertThat(c.speech().models()).containsExactly("chatterbox-turbo", "tts-1", "tts-1-hd", "gpt-4o-mini-tts");
        assertThat(c.speech().voiceMap()).containsEntry("alloy", "default").containsKeys(
                ServerConfig.OPENAI_VOICES.toArray(String[]::new));
        assertThat(c.apiKeys()).isEmpty();
        assertThat(c.maxUploadBytes()).isEqualTo(10L << 20);
        assertThat(c.shutdownTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.corsOrigins()).containsExactly("*");
    }

    @Test
    void environmentOverridesYamlAndFlagsOverrideBoth() throws Exception {
        Path yaml = tmp.resolve("app.yaml");
        Files.writeString(yaml, """
                server:
                  port: 9000
                engine:
                  model: /models/a
                  device: cpu
                  voices-dir: /v/yaml
                speech:
                  voice-map:
                    alloy: narrator
                auth:
                  api-keys: [k1, k2]
                """);
        Map<String, String> env = Map.of("TTS_PORT", "9100", "TTS_MODEL", "/models/env", "TTS_API_KEYS", "e1,e2",
                "TTS_MAX_QUEUE", "3");
        ServerConfig envOnly = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                env);
        assertThat(envOnly.port()).isEqualTo(9100);
        assertThat(envOnly.engine().model()).isEqualTo("/models/env");
        assertThat(envOnly.engine().device()).isEqualTo("cpu");
        assertThat(envOnly.engine().maxQueue()).isEqualTo(3);
        assertThat(envOnly.apiKeys()).containsExactly("e1", "e2");
        assertThat(envOnly.speech().voiceMap()).containsEntry("alloy", "narrator").containsEntry("echo", "default");

        ServerConfig flags = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString(),
                "--port", "9200", "--model=ResembleAI/chatterbox-turbo", "--voices", "/v/flag"}), env);
        assertThat(flags.port()).isEqualTo(9200);
        assertThat(flags.engine().model()).isEqualTo("ResembleAI/chatterbox-turbo");
        assertThat(flags.engine().voicesDir()).isEqualTo(Path.of("/v/flag"));

        ServerConfig yamlOnly = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                Map.of());
        assertThat(yamlOnly.apiKeys()).containsExactly("k1", "k2");
        assertThat(yamlOnly.engine().voicesDir()).isEqualTo(Path.of("/v/yaml"));
    }

    @Test
    void badFlagsAndValuesAreExplained() {
        assertThatThrownBy(() -> ConfigLoader.parseFlags(new String[] {"--prot", "1"}))
                .hasMessageContaining("unknown option '--prot'").hasMessageContaining("Usage");
        assertThatThrownBy(() -> ConfigLoader.parseFlags(new String[] {"--port"}))
                .hasMessageContaining("--port needs a value");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--port", "eighty"}),
                Map.of())).hasMessageContaining("server.port").hasMessageContaining("eighty");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--port", "70000"}),
                Map.of())).hasMessageContaining("port");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_ALLOW_DOWNLOAD", "maybe"))).hasMessageContaining("engine.allow-download");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(
                new String[] {"--config", tmp.resolve("missing.yaml").toString()}), Map.of()))
                .hasMessageContaining("config file not found");
        assertThat(ConfigLoader.parseFlags(new String[] {"--help"}).help()).isTrue();
    }

    @Test
    void builderRoundTrips() {
        ServerConfig c = ServerConfig.builder().port(1234).apiKeys(List.of(" a ", "")).build();
        assertThat(c.apiKeys()).containsExactly("a");
        assertThat(c.toBuilder().build()).isEqualTo(c);
    }
}
