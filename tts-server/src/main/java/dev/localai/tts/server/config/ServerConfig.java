package dev.localai.tts.server.config;

import dev.localai.tts.core.engine.api.SpeechRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Everything the server is configured with, immutable. Read with {@link ConfigLoader} from {@code application.yaml},
 * environment variables and command-line flags, or built with {@link #builder()} (tests, embedding).
 *
 * @param host            interface to bind ({@code 127.0.0.1} by default; {@code 0.0.0.0} for all, as the container
 *                        image sets)
 * @param port            TCP port (0 picks a free one)
 * @param maxBodyBytes    largest JSON body accepted
 * @param maxUploadBytes  largest voice upload (multipart body) accepted
 * @param shutdownTimeout how long a graceful shutdown waits for in-flight requests
 * @param stallTimeout    how long one write to a client may block before its generation is cancelled
 * @param engine          what the engine loads and how it schedules
 * @param speech          the speech endpoint's behaviour
 * @param apiKeys         accepted API keys; empty = no authentication
 * @param publicListings  whether {@code GET} listings (models, voices) are served without a key (Open WebUI sends
 *                        none there)
 * @param allowedOrigins  browser origins allowed to change state and to get CORS headers ({@code *} for any);
 *                        empty = same-origin only, no CORS headers (see {@code docs/security.md})
 * @param allowedHosts    names accepted in the {@code Host} header besides IP literals, {@code localhost} and the
 *                        listen host ({@code *} for any)
 * @param idleTimeout     how long a keep-alive connection may sit idle before the server closes it
 * @param maxUploads      voice uploads (and their clone computations) at once; more get 429
 * @param wyoming         the optional Wyoming (Home Assistant) TTS endpoint
 */
public record ServerConfig(String host, int port, long maxBodyBytes, long maxUploadBytes, Duration shutdownTimeout,
                           Duration stallTimeout, Engine engine, Speech speech, List<String> apiKeys, boolean publicListings,
                           List<String> allowedOrigins, List<String> allowedHosts, Duration idleTimeout,
                           int maxUploads, Wyoming wyoming) {

    /** The default port of the design. */
    public static final int DEFAULT_PORT = 8006;

    public ServerConfig {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be 0-65535: " + port);
        }
        if (maxBodyBytes < 1024 || maxUploadBytes < 1024) {
            throw new IllegalArgumentException("body limits must be at least 1024 bytes");
        }
        Objects.requireNonNull(shutdownTimeout, "shutdownTimeout");
        if (stallTimeout == null || stallTimeout.isNegative() || stallTimeout.isZero()) {
            throw new IllegalArgumentException("the stall timeout must be positive");
        }
        Objects.requireNonNull(engine, "engine");
        Objects.requireNonNull(speech, "speech");
        apiKeys = apiKeys.stream().map(String::trim).filter(k -> !k.isEmpty()).toList();
        allowedOrigins = List.copyOf(allowedOrigins);
        allowedHosts = List.copyOf(allowedHosts);
        if (idleTimeout == null || idleTimeout.toMillis() < 100) {
            throw new IllegalArgumentException("the idle timeout must be at least 100 ms");
        }
        if (maxUploads < 1) {
            throw new IllegalArgumentException("max-uploads must be at least 1: " + maxUploads);
        }
        Objects.requireNonNull(wyoming, "wyoming");
    }

    /**
     * The engine settings.
     *
     * @param model         a directory, a Hugging Face repo id, or {@code tiny[:seed]}
     * @param device        {@code auto}, {@code cpu}, {@code cuda} or {@code cuda:N}
     * @param threads       CPU threads (0 = automatic; at most the CPU cores this process may use)
     * @param maxConcurrent syntheses at once
     * @param maxQueue      requests waiting for a slot before 429
     * @param voicesDir     the voice library directory, or {@code null} for the built-in voice only
     * @param allowDownload whether a missing model may be downloaded
     * @param warmUp        whether to run a warm-up synthesis before reporting ready
     * @param firstAudioTarget first audio a streamed request aims at (the engine's {@code firstAudioTarget}: a first
     *                      block that would come later conditions on the voice prompt's last part, at least 5 s,
     *                      then takes one flow step, and so do later blocks a real-time listener would wait for;
     *                      zero never does), or {@code null} for the engine's default (1 s)
     * @param flowSteps     the S3Gen flow's solver steps (the engine's {@code flowSteps}), 0 for the model's (Turbo: 2)
     */
    public record Engine(String model, String device, int threads, int maxConcurrent, int maxQueue, Path voicesDir,
                         boolean allowDownload, boolean warmUp, Duration firstAudioTarget, int flowSteps) {
        public Engine {
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(device, "device");
            if (maxConcurrent < 1 || maxQueue < 0) {
                throw new IllegalArgumentException("engine: max-concurrent >= 1, max-queue >= 0");
            }
            if (firstAudioTarget != null && firstAudioTarget.isNegative()) {
                throw new IllegalArgumentException("engine: first-audio-target-ms >= 0");
            }
            if (flowSteps < 0 || flowSteps > dev.localai.tts.core.engine.TtsOptions.MAX_FLOW_STEPS) {
                throw new IllegalArgumentException("engine: flow-steps from 0 (the model's) to "
                        + dev.localai.tts.core.engine.TtsOptions.MAX_FLOW_STEPS);
            }
            try { // the engine's rule, said at start-up rather than when the engine is built in the background
                dev.localai.tts.core.tuning.IntraOpThreads.requireValid(threads);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("engine." + e.getMessage(), e);
            }
        }
    }

    /**
     * The speech endpoint's settings.
     *
     * @param models        accepted model names (the first is the canonical id)
     * @param voiceMap      OpenAI voice names ({@code alloy} ...) to library voice ids, in configured order
     * @param strict        reject unknown request fields (OpenAI's schema) instead of ignoring them
     * @param maxTokens     cap on speech tokens per text chunk when a request gives none ({@code null}: engine's)
     * @param previewText   what {@code GET /v1/audio/voices/{id}/preview} says
     */
    public record Speech(List<String> models, Map<String, String> voiceMap, boolean strict, Integer maxTokens,
                         String previewText) {
        public Speech {
            if (models.isEmpty()) {
                throw new IllegalArgumentException("speech.models must name at least one model");
            }
            models = List.copyOf(models);
            voiceMap.forEach((name, id) -> {
                if (name == null || name.isBlank() || id == null || id.isBlank()) {
                    throw new IllegalArgumentException("speech.voice-map: names and voice ids must not be empty: "
                            + name + " -> " + id);
                }
            });
            voiceMap = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(voiceMap)); // in configured order
            if (maxTokens != null && (maxTokens < 1 || maxTokens > 4096)) {
                throw new IllegalArgumentException("speech.max-tokens must be 1-4096: " + maxTokens);
            }
            Objects.requireNonNull(previewText, "previewText");
        }
    }

    /**
     * The Wyoming TTS endpoint (the protocol Home Assistant speaks to wyoming-piper), on the server's host.
     *
     * @param enabled        whether it listens
     * @param port           its TCP port (0 picks a free one); {@value #DEFAULT_WYOMING_PORT} by default, as
     *                       wyoming-piper
     * @param maxConnections connections served at once; more are answered with an error event and closed
     * @param idleTimeout    how long a connection may wait for the client's next event before it is closed
     * @param maxTextChars   longest text one synthesis takes (a whole {@code synthesize}, or one sentence of a
     *                       streamed one)
     * @param languages      the languages the voices are listed with (Home Assistant picks voices by language)
     */
    public record Wyoming(boolean enabled, int port, int maxConnections, Duration idleTimeout, int maxTextChars,
                          List<String> languages) {
        public Wyoming {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("wyoming.port must be 0-65535: " + port);
            }
            if (maxConnections < 1) {
                throw new IllegalArgumentException("wyoming.max-connections must be at least 1: " + maxConnections);
            }
            if (idleTimeout == null || idleTimeout.isNegative() || idleTimeout.isZero()) {
                throw new IllegalArgumentException("wyoming.idle-timeout-s must be positive");
            }
            if (maxTextChars < 1 || maxTextChars > SpeechRequest.MAX_TEXT_CHARS) {
                throw new IllegalArgumentException("wyoming.max-text-chars must be 1-" + SpeechRequest.MAX_TEXT_CHARS
                        + ": " + maxTextChars);
            }
            languages = languages.stream().map(String::trim).filter(l -> !l.isEmpty()).toList();
            if (languages.isEmpty()) {
                throw new IllegalArgumentException("wyoming.languages must name at least one language");
            }
        }
    }

    /** The Wyoming port Home Assistant users know from wyoming-piper. */
    public static final int DEFAULT_WYOMING_PORT = 10200;

    /** OpenAI's voice names, all mapped to the built-in voice unless configured otherwise. */
    public static final List<String> OPENAI_VOICES = List.of("alloy", "ash", "ballad", "coral", "echo", "fable",
            "onyx", "nova", "sage", "shimmer", "verse", "marin", "cedar");

    /** Model names accepted by default. */
    public static final List<String> DEFAULT_MODELS = List.of("chatterbox-turbo", "tts-1", "tts-1-hd",
            "gpt-4o-mini-tts");

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration's values. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.maxBodyBytes = maxBodyBytes;
        b.maxUploadBytes = maxUploadBytes;
        b.shutdownTimeout = shutdownTimeout;
        b.stallTimeout = stallTimeout;
        b.model = engine.model();
        b.device = engine.device();
        b.threads = engine.threads();
        b.maxConcurrent = engine.maxConcurrent();
        b.maxQueue = engine.maxQueue();
        b.voicesDir = engine.voicesDir();
        b.allowDownload = engine.allowDownload();
        b.warmUp = engine.warmUp();
        b.firstAudioTarget = engine.firstAudioTarget();
        b.flowSteps = engine.flowSteps();
        b.models = speech.models();
        b.voiceMap = new LinkedHashMap<>(speech.voiceMap());
        b.strict = speech.strict();
        b.maxTokens = speech.maxTokens();
        b.previewText = speech.previewText();
        b.apiKeys = apiKeys;
        b.publicListings = publicListings;
        b.allowedOrigins = allowedOrigins;
        b.allowedHosts = allowedHosts;
        b.idleTimeout = idleTimeout;
        b.maxUploads = maxUploads;
        b.wyomingEnabled = wyoming.enabled();
        b.wyomingPort = wyoming.port();
        b.wyomingMaxConnections = wyoming.maxConnections();
        b.wyomingIdleTimeout = wyoming.idleTimeout();
        b.wyomingMaxTextChars = wyoming.maxTextChars();
        b.wyomingLanguages = wyoming.languages();
        return b;
    }

    /** Mutable builder with the defaults of {@code application.yaml}. */
    public static final class Builder {
        String host = "127.0.0.1";
        int port = DEFAULT_PORT;
        long maxBodyBytes = 1L << 20;
        long maxUploadBytes = 10L << 20;
        Duration shutdownTimeout = Duration.ofSeconds(30);
        Duration stallTimeout = Duration.ofSeconds(60);
        String model = "ResembleAI/chatterbox-turbo";
        String device = "auto";
        int threads;
        int maxConcurrent = 1;
        int maxQueue = 16;
        Path voicesDir;
        boolean allowDownload = true;
        boolean warmUp = true;
        Duration firstAudioTarget;
        int flowSteps;
        List<String> models = DEFAULT_MODELS;
        Map<String, String> voiceMap = defaultVoiceMap();
        boolean strict;
        Integer maxTokens;
        String previewText = "Hello! This is a preview of my voice.";
        List<String> apiKeys = List.of();
        boolean publicListings = true;
        List<String> allowedOrigins = List.of();
        List<String> allowedHosts = List.of();
        Duration idleTimeout = Duration.ofSeconds(60);
        int maxUploads = 2;
        boolean wyomingEnabled;
        int wyomingPort = DEFAULT_WYOMING_PORT;
        int wyomingMaxConnections = 8;
        Duration wyomingIdleTimeout = Duration.ofSeconds(120);
        int wyomingMaxTextChars = 10_000;
        List<String> wyomingLanguages = List.of("en");

        private Builder() {
        }

        private static Map<String, String> defaultVoiceMap() {
            Map<String, String> m = new LinkedHashMap<>();
            OPENAI_VOICES.forEach(v -> m.put(v, "default"));
            return m;
        }

        public Builder host(String v) { host = v; return this; }
        public Builder port(int v) { port = v; return this; }
        public Builder maxBodyBytes(long v) { maxBodyBytes = v; return this; }
        public Builder maxUploadBytes(long v) { maxUploadBytes = v; return this; }
        public Builder shutdownTimeout(Duration v) { shutdownTimeout = v; return this; }
        public Builder stallTimeout(Duration v) { stallTimeout = v; return this; }
        public Builder model(String v) { model = v; return this; }
        public Builder device(String v) { device = v; return this; }
        public Builder threads(int v) { threads = v; return this; }
        public Builder maxConcurrent(int v) { maxConcurrent = v; return this; }
        public Builder maxQueue(int v) { maxQueue = v; return this; }
        public Builder voicesDir(Path v) { voicesDir = v; return this; }
        public Builder allowDownload(boolean v) { allowDownload = v; return this; }
        public Builder warmUp(boolean v) { warmUp = v; return this; }
        public Builder firstAudioTarget(Duration v) { firstAudioTarget = v; return this; }
        public Builder flowSteps(int v) { flowSteps = v; return this; }
        public Builder models(List<String> v) { models = v; return this; }
        public Builder voiceMap(Map<String, String> v) { voiceMap = new LinkedHashMap<>(v); return this; }
        public Builder mapVoice(String openAiName, String voiceId) { voiceMap.put(openAiName, voiceId); return this; }
        public Builder strict(boolean v) { strict = v; return this; }
        public Builder maxTokens(Integer v) { maxTokens = v; return this; }
        public Builder previewText(String v) { previewText = v; return this; }
        public Builder apiKeys(List<String> v) { apiKeys = v; return this; }
        public Builder publicListings(boolean v) { publicListings = v; return this; }
        public Builder allowedOrigins(List<String> v) { allowedOrigins = v; return this; }
        public Builder allowedHosts(List<String> v) { allowedHosts = v; return this; }
        public Builder idleTimeout(Duration v) { idleTimeout = v; return this; }
        public Builder maxUploads(int v) { maxUploads = v; return this; }
        public Builder wyomingEnabled(boolean v) { wyomingEnabled = v; return this; }
        public Builder wyomingPort(int v) { wyomingPort = v; return this; }
        public Builder wyomingMaxConnections(int v) { wyomingMaxConnections = v; return this; }
        public Builder wyomingIdleTimeout(Duration v) { wyomingIdleTimeout = v; return this; }
        public Builder wyomingMaxTextChars(int v) { wyomingMaxTextChars = v; return this; }
        public Builder wyomingLanguages(List<String> v) { wyomingLanguages = v; return this; }

        public ServerConfig build() {
            return new ServerConfig(host, port, maxBodyBytes, maxUploadBytes, shutdownTimeout, stallTimeout,
                    new Engine(model, device, threads, maxConcurrent, maxQueue, voicesDir, allowDownload, warmUp,
                            firstAudioTarget, flowSteps),
                    new Speech(models, voiceMap, strict, maxTokens, previewText), apiKeys, publicListings,
                    allowedOrigins, allowedHosts, idleTimeout, maxUploads, new Wyoming(wyomingEnabled, wyomingPort,
                    wyomingMaxConnections, wyomingIdleTimeout, wyomingMaxTextChars, wyomingLanguages));
        }
    }
}
