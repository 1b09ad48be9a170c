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
        assertThat(c.host()).isEqualTo("127.0.0.1");
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
        assertThat(c.allowedOrigins()).isEmpty();
        assertThat(c.allowedHosts()).isEmpty();
        assertThat(c.idleTimeout()).isEqualTo(Duration.ofSeconds(60));
        assertThat(c.maxUploads()).isEqualTo(2);
        assertThat(ServerConfig.builder().build().host()).isEqualTo("127.0.0.1");
        assertThat(ServerConfig.builder().build().allowedOrigins()).isEmpty();
    }

    @Test
    void theSecurityKeysComeFromYamlAndEnvironment() throws Exception {
        Path yaml = tmp.resolve("sec.yaml");
        Files.writeString(yaml, """
                server:
                  idle-timeout-s: 2.5
                  max-uploads: 3
                security:
                  allowed-hosts: [tts.lan]
                  allowed-origins: ["https://dash.lan"]
                """);
        ServerConfig y = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                Map.of());
        assertThat(y.allowedHosts()).containsExactly("tts.lan");
        assertThat(y.allowedOrigins()).containsExactly("https://dash.lan");
        assertThat(y.idleTimeout()).isEqualTo(Duration.ofMillis(2500));
        assertThat(y.maxUploads()).isEqualTo(3);
        ServerConfig e = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                Map.of("TTS_ALLOWED_HOSTS", "a.lan, b.lan", "TTS_ALLOWED_ORIGINS", "*", "TTS_IDLE_TIMEOUT_S", "30",
                        "TTS_MAX_UPLOADS", "1"));
        assertThat(e.allowedHosts()).containsExactly("a.lan", "b.lan");
        assertThat(e.allowedOrigins()).containsExactly("*");
        assertThat(e.idleTimeout()).isEqualTo(Duration.ofSeconds(30));
        assertThat(e.maxUploads()).isEqualTo(1);
        // the older name still works, and the new one wins over it
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of("TTS_CORS_ORIGINS",
                "http://x.lan")).allowedOrigins()).containsExactly("http://x.lan");
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of("TTS_CORS_ORIGINS",
                "http://x.lan", "TTS_ALLOWED_ORIGINS", "http://y.lan")).allowedOrigins())
                .containsExactly("http://y.lan");
    }

    @Test
    void badSecurityValuesAreExplained() {
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_ALLOWED_ORIGINS", "dash.lan"))).hasMessageContaining("dash.lan")
                .hasMessageContaining("invalid configuration");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_IDLE_TIMEOUT_S", "1e300"))).hasMessageContaining("server.idle-timeout-s");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_MAX_UPLOADS", "0"))).hasMessageContaining("max-uploads");
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
                "TTS_MAX_QUEUE", "3", "TTS_FIRST_AUDIO_TARGET_MS", "0");
        ServerConfig envOnly = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                env);
        assertThat(envOnly.port()).isEqualTo(9100);
        assertThat(envOnly.engine().model()).isEqualTo("/models/env");
        assertThat(envOnly.engine().device()).isEqualTo("cpu");
        assertThat(envOnly.engine().maxQueue()).isEqualTo(3);
        assertThat(envOnly.engine().firstAudioTarget()).isEqualTo(Duration.ZERO);
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
        assertThat(yamlOnly.engine().firstAudioTarget()).as("unset: the engine's default").isNull();
    }

    @Test
    void theFirstAudioTargetIsMillisecondsFromZeroToAMinute() {
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_FIRST_AUDIO_TARGET_MS", "1500")).engine().firstAudioTarget())
                .isEqualTo(Duration.ofMillis(1500));
        refusedFromTheEnvironment("TTS_FIRST_AUDIO_TARGET_MS", "engine.first-audio-target-ms", "-1", "60001", "1.5",
                "soon");
    }

    /** Each of {@code bad} in the environment variable {@code var} is refused with its key named. */
    private static void refusedFromTheEnvironment(String var, String key, String... bad) {
        for (String v : bad) {
            assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of(var, v)))
                    .as(v).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(key);
        }
    }

    @Test
    void theFlowStepsAreTheModelsUnlessSetFromOneToTen() {
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of()).engine().flowSteps())
                .as("unset: the model's").isZero();
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_FLOW_STEPS", "1")).engine().flowSteps()).isEqualTo(1);
        refusedFromTheEnvironment("TTS_FLOW_STEPS", "engine.flow-steps", "-1", "11", "1.5", "one");
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
        // more threads than cores only wait on each other: refused at start-up, not when the engine is built
        int cores = Runtime.getRuntime().availableProcessors();
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_THREADS", String.valueOf(cores + 1)))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("invalid configuration: engine.threads must be 0 (automatic) or from 1 to " + cores
                        + ", the CPU cores this process may use: " + (cores + 1));
        assertThat(ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_THREADS", String.valueOf(cores))).engine().threads()).isEqualTo(cores);
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

    @Test
    void theVoiceMapComesFromYamlAndTtsVoiceMapChangesSomeOfItsEntries() throws Exception {
        Path yaml = tmp.resolve("map.yaml");
        Files.writeString(yaml, """
                speech:
                  voice-map:
                    alloy: narrator
                    echo: default
                """);
        ServerConfig c = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                Map.of("TTS_VOICE_MAP", " echo = vc1 , nova=vc2,"));
        assertThat(c.speech().voiceMap()).containsEntry("alloy", "narrator").containsEntry("echo", "vc1")
                .containsEntry("nova", "vc2").containsEntry("shimmer", "default");
        assertThat(List.copyOf(c.speech().voiceMap().keySet())).startsWith("alloy", "ash");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_VOICE_MAP", "alloy")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("TTS_VOICE_MAP")
                .hasMessageContaining("alloy=my-voice");
    }

    @Test
    void wyomingIsOffByDefaultAndNamingAPortTurnsItOn() {
        ServerConfig plain = ConfigLoader.load(ConfigLoader.parseFlags(new String[0]), Map.of());
        assertThat(plain.wyoming().enabled()).isFalse();
        assertThat(plain.wyoming().port()).isEqualTo(ServerConfig.DEFAULT_WYOMING_PORT).isEqualTo(10200);
        assertThat(plain.wyoming().languages()).containsExactly("en");

        ServerConfig byFlag = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--wyoming-port", "10300"}),
                Map.of());
        assertThat(byFlag.wyoming().enabled()).isTrue();
        assertThat(byFlag.wyoming().port()).isEqualTo(10300);

        ServerConfig byEnv = ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_WYOMING_PORT", "10400"));
        assertThat(byEnv.wyoming().enabled()).isTrue();
        assertThat(byEnv.wyoming().port()).isEqualTo(10400);

        ServerConfig onDefaultPort = ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_WYOMING_ENABLED", "true"));
        assertThat(onDefaultPort.wyoming().enabled()).isTrue();
        assertThat(onDefaultPort.wyoming().port()).isEqualTo(10200);

        ServerConfig off = ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_WYOMING_PORT", "10400", "TTS_WYOMING_ENABLED", "false"));
        assertThat(off.wyoming().enabled()).isFalse();
    }

    @Test
    void wyomingSettingsFromYamlAreCheckedByName() throws Exception {
        Path yaml = tmp.resolve("w.yaml");
        Files.writeString(yaml, """
                wyoming:
                  enabled: true
                  max-connections: 3
                  idle-timeout-s: 5
                  max-text-chars: 500
                  languages: [en_US, en_GB]
                """);
        ServerConfig c = ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--config", yaml.toString()}),
                Map.of());
        assertThat(c.wyoming().enabled()).isTrue();
        assertThat(c.wyoming().maxConnections()).isEqualTo(3);
        assertThat(c.wyoming().idleTimeout()).isEqualTo(Duration.ofSeconds(5));
        assertThat(c.wyoming().maxTextChars()).isEqualTo(500);
        assertThat(c.wyoming().languages()).containsExactly("en_US", "en_GB");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[] {"--wyoming-port", "70000"}),
                Map.of())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("wyoming.port");
        assertThatThrownBy(() -> ConfigLoader.load(ConfigLoader.parseFlags(new String[0]),
                Map.of("TTS_WYOMING_PORT", "ten"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("wyoming.port");
    }

    /** {@code --help} names every environment variable the server reads (the older TTS_CORS_ORIGINS aside). */
    @org.junit.jupiter.api.Test
    void theUsageNamesEveryEnvironmentVariable() {
        for (String name : ConfigLoader.ENV.keySet()) {
            if (!name.equals("TTS_CORS_ORIGINS")) {
                org.assertj.core.api.Assertions.assertThat(ConfigLoader.USAGE).as(name).contains(name);
            }
        }
    }
}
