package dev.localai.tts.server;

import dev.localai.tts.api.ApiError;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineFactory;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.ApiFilter;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.http.Hangups;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.http.PublicMessages;
import dev.localai.tts.server.http.RequestIds;
import dev.localai.tts.server.http.Routes;
import dev.localai.tts.server.http.TransportErrors;
import dev.localai.tts.server.metrics.Metrics;
import dev.localai.tts.server.ops.OpsService;
import dev.localai.tts.server.speech.AudioResponder;
import dev.localai.tts.server.speech.SpeechService;
import dev.localai.tts.server.speech.StallGuard;
import dev.localai.tts.server.voices.VoicesService;
import dev.localai.tts.server.web.StaticFiles;
import dev.localai.tts.server.wyoming.WyomingServer;
import io.helidon.http.DirectHandler;
import io.helidon.http.HttpException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.time.Duration;
import java.util.OptionalInt;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Pattern;

/**
 * The OpenAI-compatible TTS server: Helidon SE routing over an {@link EngineSupervisor}. Starts listening at once;
 * the model loads in the background (readiness and speech answer 503 meanwhile, with the reason if loading fails).
 * {@link #shutdown()} is graceful: new work is refused, in-flight requests finish, then the engine is closed.
 * When {@code wyoming.enabled}, a {@link WyomingServer} serves the same engine to Home Assistant.
 */
public final class TtsServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(TtsServer.class.getName());
    /**
     * How often the socket table is read for clients that closed their connection ({@link Hangups}) while a request
     * of theirs runs: a generation outlives its client by about this much (against 0.3-2.6 s until the next write
     * on a 2-core EPYC), for one table read of 3.5-3.7 ms there (the kernel walks its whole connection hash), about
     * 4% of one core while requests run and nothing while none does.
     */
    static final Duration HANGUP_CHECK_PERIOD = Duration.ofMillis(100);
    private static final Pattern API_PATH = Pattern.compile(
            "/v1/(audio/speech|audio/voices(/[^/]+(/preview)?)?|audio/models|audio/tags|models(/[^/]+)?)");

    private final ServerConfig config;
    private final EngineSupervisor engines;
    private final Metrics metrics;
    private final Lifecycle lifecycle;
    private final WebServer web;
    private final StallGuard stalls;
    private final Hangups hangups;
    private final WyomingServer wyoming;

    private TtsServer(ServerConfig config, EngineSupervisor engines) {
        this.config = config;
        this.engines = engines;
        this.metrics = new Metrics(() -> engines.status().engine());
        this.lifecycle = new Lifecycle(metrics.inFlight());
        this.stalls = new StallGuard(config.stallTimeout());
        this.hangups = new Hangups(HANGUP_CHECK_PERIOD);
        AudioResponder responder = new AudioResponder(metrics, stalls, hangups);
        this.web = WebServer.builder()
                .host(config.host())
                .port(config.port())
                .shutdownHook(false)
                .shutdownGracePeriod(Duration.ofSeconds(2))
                .idleConnectionTimeout(config.idleTimeout())
                .idleConnectionPeriod(idleCheckPeriod(config.idleTimeout()))
                .directHandlers(d -> {
                    TransportErrors errors = new TransportErrors();
                    for (DirectHandler.EventType t : DirectHandler.EventType.values()) {
                        d.addHandler(t, errors);
                    }
                })
                .routing(r -> routing(r, responder))
                .build();
        this.wyoming = config.wyoming().enabled() ? new WyomingServer(config, engines, lifecycle, metrics, hangups) : null;
    }

    /** Starts a server whose engine is the Chatterbox engine configured in {@code config}. */
    public static TtsServer start(ServerConfig config) {
        return start(config, EngineFactory.chatterbox(config.engine()), config.engine().model());
    }

    /** Starts a server over the engine {@code factory} builds (in the background). */
    public static TtsServer start(ServerConfig config, Supplier<? extends SpeechSynthesizer> factory,
                                  String description) {
        EngineSupervisor sup = new EngineSupervisor(factory, description);
        TtsServer s = new TtsServer(config, sup);
        s.web.start();
        if (s.wyoming != null) {
            try {
                s.wyoming.start();
            } catch (RuntimeException e) {
                s.web.stop();
                s.stalls.close();
                s.hangups.close();
                throw e;
            }
        }
        sup.start();
        LOG.info(() -> "listening on http://" + config.host() + ":" + s.port() + " (model " + description + ")");
        return s;
    }

    private void routing(HttpRouting.Builder r, AudioResponder responder) {
        VoicesService voices = new VoicesService(config, engines, responder, lifecycle);
        metrics.uploadsInProgress(voices::uploadsInProgress);
        r.addFilter(new ApiFilter(config, metrics))
                .register(new OpsService(config, engines, metrics, lifecycle))
                .register(new SpeechService(config, engines, responder, lifecycle))
                .register(voices)
                .register(new StaticFiles("web"))
                .any(this::fallback)
                .error(ApiException.class, (req, res, e) -> answer(req, res, e))
                .error(EngineException.class, (req, res, e) -> answer(req, res,
                        ErrorResponses.fromEngine(e, "voice", false)))
                .error(HttpException.class, (req, res, e) -> answer(req, res, new ApiException(e.status().code(),
                        new ApiError(PublicMessages.clean(e.getMessage(), e.status().reasonPhrase()),
                                e.status().code() < 500 ? ApiError.INVALID_REQUEST : ApiError.SERVER_ERROR, null,
                                null))))
                .error(Throwable.class, (req, res, e) -> {
                    LOG.log(Level.SEVERE, "request " + RequestIds.of(req) + " failed", e);
                    answer(req, res, ApiErrors.internal("Internal server error (request " + RequestIds.of(req)
                            + "); see the server log."));
                });
    }

    private void fallback(ServerRequest req, ServerResponse res) {
        String path = req.path().path();
        if (API_PATH.matcher(path).matches() || path.equals("/health") || path.equals("/metrics")) {
            throw ApiErrors.methodNotAllowed(req.prologue().method().text(), path);
        }
        throw ApiErrors.notFound(null, "not_found", "No such endpoint: " + req.prologue().method().text() + " "
                + path + (path.startsWith("/v1/") ? ". The API has " + Routes.SPEECH + ", " + Routes.VOICES + ", "
                + Routes.MODELS + ", " + Routes.AUDIO_MODELS + " and " + Routes.TAGS + "." : "."));
    }

    /** How often idle connections are looked for: a quarter of the timeout, between 50 ms and 15 s. */
    static Duration idleCheckPeriod(Duration idleTimeout) {
        return Duration.ofMillis(Math.clamp(idleTimeout.toMillis() / 4, 50, 15_000));
    }

    private void answer(ServerRequest req, ServerResponse res, ApiException e) {
        metrics.error(e.error().type(), e.status());
        Level level = e.status() >= 500 ? Level.WARNING : Level.FINE;
        LOG.log(level, () -> "request " + RequestIds.of(req) + ": " + e.status() + " " + e.error().code() + " "
                + e.error().message());
        if (res.isSent()) {
            return;
        }
        res.header(RequestIds.HEADER, RequestIds.of(req));
        ErrorResponses.send(res, e);
    }

    /** The port listened on. */
    public int port() {
        return web.port();
    }

    /** The Wyoming port listened on, when the endpoint is enabled. */
    public OptionalInt wyomingPort() {
        return wyoming == null ? OptionalInt.empty() : OptionalInt.of(wyoming.port());
    }

    /** The engine's supervisor (readiness, the engine once loaded). */
    public EngineSupervisor engines() {
        return engines;
    }

    /** The configuration it runs with. */
    public ServerConfig config() {
        return config;
    }

    /**
     * Graceful shutdown: refuses new work (503), waits up to the configured timeout for in-flight requests, stops
     * listening and closes the engine. Idempotent.
     */
    public synchronized void shutdown() {
        if (!web.isRunning()) {
            closeWyoming();
            stalls.close();
            hangups.close();
            engines.close();
            return;
        }
        lifecycle.drain();
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        try {
            if (!lifecycle.awaitIdle(config.shutdownTimeout(), 0)) {
                LOG.warning(() -> lifecycle.inFlight() + " requests still running after "
                        + config.shutdownTimeout().toSeconds() + " s; stopping anyway");
            }
            if (wyoming != null && !wyoming.awaitIdle(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                LOG.warning("Wyoming syntheses still running at the shutdown timeout; stopping anyway");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeWyoming();
        web.stop();
        stalls.close();
        hangups.close();
        engines.close();
        LOG.info("stopped");
    }

    private void closeWyoming() {
        if (wyoming != null) {
            wyoming.close();
        }
    }

    @Override
    public void close() {
        shutdown();
    }
}
