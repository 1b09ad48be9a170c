package dev.localai.tts.server.config;

import dev.localai.tts.api.http.CrossSiteGuard;
import dev.localai.tts.core.engine.api.VoiceLibraryDirs;
import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Builds the {@link ServerConfig} from three layers, later ones winning: {@code application.yaml} (the one on the
 * classpath, or the file given with {@code --config}), environment variables ({@code TTS_PORT}, {@code TTS_MODEL},
 * ...; see {@link #ENV}), and command-line flags ({@code --model DIR|REPO_ID}, {@code --port N},
 * {@code --voices DIR}, {@code --device D}, {@code --host H}, {@code --wyoming-port N}). Without a voices directory
 * in any layer, the library is the per-user one the {@code tts} CLI uses ({@link VoiceLibraryDirs#defaultDir}).
 */
public final class ConfigLoader {

    /** The environment variables read, and the {@code application.yaml} key each overrides. */
    public static final Map<String, String> ENV = envKeys();

    /** What {@code --help} prints. */
    public static final String USAGE = """
            Usage: java -jar tts-server.jar [--model DIR|REPO_ID|tiny[:seed]] [--port N] [--voices DIR]
                                            [--device auto|cpu|cuda|cuda:N] [--host ADDR] [--config FILE]
                                            [--wyoming-port N]
            --wyoming-port N also serves the Wyoming protocol (Home Assistant) on port N (10200 is customary).
            Flags override application.yaml and the TTS_* environment variables
            (TTS_PORT, TTS_HOST, TTS_MODEL, TTS_DEVICE, TTS_VOICES_DIR, TTS_API_KEYS, TTS_ALLOW_DOWNLOAD,
             TTS_MAX_CONCURRENT, TTS_MAX_QUEUE, TTS_THREADS, TTS_WARM_UP, TTS_ALLOWED_HOSTS, TTS_ALLOWED_ORIGINS,
             TTS_IDLE_TIMEOUT_S, TTS_MAX_UPLOADS, TTS_WYOMING_ENABLED, TTS_WYOMING_PORT,
             TTS_FIRST_AUDIO_TARGET_MS: a streamed request's first audio to aim at, 0 keeps every flow run exact,
             TTS_FLOW_STEPS: the S3Gen flow's solver steps, 0 for the model's,
             TTS_VOICE_MAP=alloy=my-voice,echo=default: OpenAI voice names to library voices).""";

    private ConfigLoader() {
    }

    private static Map<String, String> envKeys() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("TTS_HOST", "server.host");
        m.put("TTS_PORT", "server.port");
        m.put("TTS_MODEL", "engine.model");
        m.put("TTS_DEVICE", "engine.device");
        m.put("TTS_THREADS", "engine.threads");
        m.put("TTS_MAX_CONCURRENT", "engine.max-concurrent");
        m.put("TTS_MAX_QUEUE", "engine.max-queue");
        m.put("TTS_VOICES_DIR", "engine.voices-dir");
        m.put("TTS_ALLOW_DOWNLOAD", "engine.allow-download");
        m.put("TTS_WARM_UP", "engine.warm-up");
        m.put("TTS_FIRST_AUDIO_TARGET_MS", "engine.first-audio-target-ms");
        m.put("TTS_FLOW_STEPS", "engine.flow-steps");
        m.put("TTS_API_KEYS", "auth.api-keys");
        m.put("TTS_ALLOWED_HOSTS", "security.allowed-hosts");
        m.put("TTS_ALLOWED_ORIGINS", "security.allowed-origins");
        m.put("TTS_CORS_ORIGINS", "cors.allowed-origins"); // the older name; TTS_ALLOWED_ORIGINS wins
        m.put("TTS_IDLE_TIMEOUT_S", "server.idle-timeout-s");
        m.put("TTS_MAX_UPLOADS", "server.max-uploads");
        m.put("TTS_VOICE_MAP", "speech.voice-map");
        m.put("TTS_WYOMING_ENABLED", "wyoming.enabled");
        m.put("TTS_WYOMING_PORT", "wyoming.port");
        return Map.copyOf(m);
    }

    /** Parsed command-line flags. */
    public record Flags(Path configFile, Map<String, String> overrides, boolean help) {
    }

    /** Parses the flags; throws {@link IllegalArgumentException} with a message fit for the user. */
    public static Flags parseFlags(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        Path configFile = null;
        boolean help = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                value = a.substring(eq + 1);
                a = a.substring(0, eq);
            }
            if (a.equals("--help") || a.equals("-h")) {
                help = true;
                continue;
            }
            String key = switch (a) {
                case "--model" -> "engine.model";
                case "--port" -> "server.port";
                case "--voices" -> "engine.voices-dir";
                case "--device" -> "engine.device";
                case "--host" -> "server.host";
                case "--wyoming-port" -> "wyoming.port";
                case "--config" -> "config";
                default -> throw new IllegalArgumentException("unknown option '" + args[i] + "'\n" + USAGE);
            };
            if (value == null) {
                if (i + 1 >= args.length || args[i + 1].startsWith("--")) {
                    throw new IllegalArgumentException("option " + a + " needs a value\n" + USAGE);
                }
                value = args[++i];
            }
            if (key.equals("config")) {
                configFile = Path.of(value);
            } else if (key.equals("wyoming.port")) {
                // the port alone turns the endpoint on
                o.put(key, value);
                o.put("wyoming.enabled", "true");
            } else {
                o.put(key, value);
            }
        }
        return new Flags(configFile, o, help);
    }

    /** Loads the configuration for these flags and this environment. */
    public static ServerConfig load(Flags flags, Map<String, String> env) {
        Config yaml;
        if (flags.configFile() != null) {
            if (!Files.isRegularFile(flags.configFile())) {
                throw new IllegalArgumentException("config file not found: " + flags.configFile());
            }
            yaml = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                    .addSource(ConfigSources.file(flags.configFile())).build();
        } else {
            yaml = Config.builder().disableEnvironmentVariablesSource().disableSystemPropertiesSource()
                    .addSource(ConfigSources.classpath("application.yaml").optional()).build();
        }
        Map<String, String> over = new LinkedHashMap<>();
        ENV.forEach((var, key) -> {
            String v = env.get(var);
            if (v != null && !v.isBlank()) {
                over.put(key, v.trim());
            }
        });
        if (over.containsKey("wyoming.port")) {
            // naming a Wyoming port turns the endpoint on, unless TTS_WYOMING_ENABLED says otherwise
            over.putIfAbsent("wyoming.enabled", "true");
        }
        over.putAll(flags.overrides());
        if (!over.containsKey("engine.voices-dir") && !yaml.get("engine.voices-dir").exists()) {
            // the per-user library the tts CLI uses too, so voices added with one are there for the other
            String home = env.getOrDefault("HOME", System.getProperty("user.home"));
            over.put("engine.voices-dir", VoiceLibraryDirs.defaultDir(env, Path.of(home)).toString());
        }
        return from(yaml, over);
    }

    /** The configuration of {@code yaml} with {@code overrides} (flat keys) applied. */
    public static ServerConfig from(Config yaml, Map<String, String> overrides) {
        ServerConfig.Builder b = ServerConfig.builder();
        Layer l = new Layer(yaml, overrides);
        l.str("server.host", b::host);
        l.num("server.port", Integer::parseInt, b::port);
        l.num("server.max-body-bytes", Long::parseLong, b::maxBodyBytes);
        l.num("server.max-upload-bytes", Long::parseLong, b::maxUploadBytes);
        l.num("server.shutdown-timeout-s", s -> Duration.ofSeconds(Long.parseLong(s)), b::shutdownTimeout);
        l.num("server.stall-timeout-s", s -> Duration.ofSeconds(Long.parseLong(s)), b::stallTimeout);
        l.num("server.idle-timeout-s", ConfigLoader::seconds, b::idleTimeout);
        l.num("server.max-uploads", Integer::parseInt, b::maxUploads);
        l.str("engine.model", b::model);
        l.str("engine.device", b::device);
        l.num("engine.threads", Integer::parseInt, b::threads);
        l.num("engine.max-concurrent", Integer::parseInt, b::maxConcurrent);
        l.num("engine.max-queue", Integer::parseInt, b::maxQueue);
        l.str("engine.voices-dir", s -> b.voicesDir(s.isBlank() ? null : Path.of(s)));
        l.num("engine.allow-download", ConfigLoader::bool, b::allowDownload);
        l.num("engine.warm-up", ConfigLoader::bool, b::warmUp);
        l.num("engine.first-audio-target-ms", ConfigLoader::millis, b::firstAudioTarget);
        l.num("engine.flow-steps", ConfigLoader::flowSteps, b::flowSteps);
        l.list("speech.models", b::models);
        l.num("speech.strict", ConfigLoader::bool, b::strict);
        l.num("speech.max-tokens", Integer::valueOf, b::maxTokens);
        l.str("speech.preview-text", b::previewText);
        Config vm = yaml.get("speech.voice-map");
        if (vm.exists()) {
            vm.asMap().ifPresent(m -> m.forEach((k, v) -> b.mapVoice(k.substring(k.lastIndexOf('.') + 1), v)));
        }
        if (overrides.containsKey("speech.voice-map")) {
            voiceMapPairs(overrides.get("speech.voice-map")).forEach(b::mapVoice);
        }
        l.list("auth.api-keys", b::apiKeys);
        l.num("auth.public-listings", ConfigLoader::bool, b::publicListings);
        if (overrides.containsKey("security.allowed-origins") || yaml.get("security.allowed-origins").exists()
                && !overrides.containsKey("cors.allowed-origins")) {
            l.list("security.allowed-origins", b::allowedOrigins);
        } else {
            l.list("cors.allowed-origins", b::allowedOrigins); // the older key
        }
        l.list("security.allowed-hosts", b::allowedHosts);
        l.num("wyoming.enabled", ConfigLoader::bool, b::wyomingEnabled);
        l.num("wyoming.port", Integer::parseInt, b::wyomingPort);
        l.num("wyoming.max-connections", Integer::parseInt, b::wyomingMaxConnections);
        l.num("wyoming.idle-timeout-s", s -> Duration.ofSeconds(Long.parseLong(s)), b::wyomingIdleTimeout);
        l.num("wyoming.max-text-chars", Integer::parseInt, b::wyomingMaxTextChars);
        l.list("wyoming.languages", b::wyomingLanguages);
        try {
            ServerConfig c = b.build();
            CrossSiteGuard.of(c.host(), c.allowedHosts(), c.allowedOrigins(), List.of()); // validates the origins
            return c;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid configuration: " + e.getMessage(), e);
        }
    }

    /** {@code alloy=my-voice,echo=default} (the form of {@code TTS_VOICE_MAP}) as an ordered map. */
    static Map<String, String> voiceMapPairs(String s) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String pair : s.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String name = eq < 0 ? "" : pair.substring(0, eq).trim();
            String id = eq < 0 ? "" : pair.substring(eq + 1).trim();
            if (name.isEmpty() || id.isEmpty()) {
                throw new IllegalArgumentException("invalid value for speech.voice-map (TTS_VOICE_MAP): '"
                        + pair.trim() + "'; write NAME=VOICE_ID pairs separated by commas, e.g. alloy=my-voice");
            }
            m.put(name, id);
        }
        return m;
    }

    /** Whole or fractional seconds ({@code 60}, {@code 0.5}), bounded to a day. */
    private static Duration seconds(String s) {
        double d = Double.parseDouble(s);
        if (!(d > 0 && d <= 86_400)) {
            throw new IllegalArgumentException("not between 0 and 86400 seconds: " + s);
        }
        return Duration.ofMillis(Math.round(d * 1000));
    }

    /** The flow's solver steps, 0 (the model's) to the engine's most. */
    private static int flowSteps(String s) {
        int n = Integer.parseInt(s);
        if (n < 0 || n > dev.localai.tts.core.engine.TtsOptions.MAX_FLOW_STEPS) {
            throw new IllegalArgumentException("not between 0 (the model's) and "
                    + dev.localai.tts.core.engine.TtsOptions.MAX_FLOW_STEPS + ": " + s);
        }
        return n;
    }

    /** Whole milliseconds from 0 to a minute. */
    private static Duration millis(String s) {
        long ms = Long.parseLong(s);
        if (ms < 0 || ms > 60_000) {
            throw new IllegalArgumentException("not between 0 and 60000 ms: " + s);
        }
        return Duration.ofMillis(ms);
    }

    private static boolean bool(String s) {
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException("not a boolean: '" + s + "'");
        };
    }

    /** One lookup: an override if given, else the YAML value. */
    private record Layer(Config yaml, Map<String, String> overrides) {
        void str(String key, java.util.function.Consumer<String> to) {
            if (overrides.containsKey(key)) {
                to.accept(overrides.get(key));
            } else {
                yaml.get(key).asString().ifPresent(to);
            }
        }

        <T> void num(String key, Function<String, T> parse, java.util.function.Consumer<T> to) {
            str(key, s -> {
                try {
                    to.accept(parse.apply(s.trim()));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("invalid value for " + key + ": '" + s + "'", e);
                }
            });
        }

        void list(String key, java.util.function.Consumer<List<String>> to) {
            if (overrides.containsKey(key)) {
                to.accept(split(overrides.get(key)));
                return;
            }
            Config c = yaml.get(key);
            if (!c.exists()) {
                return;
            }
            if (c.isLeaf()) {
                c.asString().ifPresent(s -> to.accept(split(s)));
            } else {
                to.accept(new ArrayList<>(c.asList(String.class).orElse(List.of())));
            }
        }

        private static List<String> split(String s) {
            return CrossSiteGuard.splitList(s); // the manager splits its MANAGER_* lists the same way
        }
    }
}
