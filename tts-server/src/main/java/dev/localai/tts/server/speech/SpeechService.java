package dev.localai.tts.server.speech;

import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.Json;
import dev.localai.tts.api.SpeechCreateRequest;
import dev.localai.tts.api.SpeechRequestParser;
import dev.localai.tts.api.StreamFormat;
import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.text.Pauses;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.Bodies;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.http.Routes;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /v1/audio/speech}: OpenAI's speech endpoint. The body is parsed and validated (4xx with the parameter
 * at fault), the model name and voice are resolved, and the speech is streamed as audio bytes (default), as SSE
 * ({@code stream_format: "sse"}) or sent as a whole file ({@code "stream": false}). The knobs of the other Chatterbox
 * servers ({@code exaggeration}, {@code cfg_weight}, {@code min_p}) are accepted and ignored, as upstream Turbo does,
 * and named in an {@value #WARNING_HEADER} header. Also {@code GET /v1/audio/tags}: the paralinguistic tags and the
 * pause syntax the input may hold.
 */
public final class SpeechService implements HttpService {
    /** The response header that reports request fields Chatterbox Turbo ignores. */
    public static final String WARNING_HEADER = "X-TTS-Warning";

    private final ServerConfig config;
    private final EngineSupervisor engines;
    private final SpeechRequestParser parser;
    private final VoiceResolver voices;
    private final AudioResponder responder;
    private final Lifecycle lifecycle;

    public SpeechService(ServerConfig config, EngineSupervisor engines, AudioResponder responder, Lifecycle lifecycle) {
        this.config = config;
        this.engines = engines;
        this.parser = new SpeechRequestParser(config.speech().strict());
        this.voices = new VoiceResolver(config.speech().voiceMap());
        this.responder = responder;
        this.lifecycle = lifecycle;
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post(Routes.SPEECH, this::speech)
                .get(Routes.TAGS, (req, res) -> res.header(HeaderNames.CONTENT_TYPE, "application/json")
                        .send(Json.bytes(TextTagsListing.TAGS)));
    }

    private void speech(ServerRequest req, ServerResponse res) {
        long t0 = System.nanoTime();
        lifecycle.requireAccepting();
        Bodies.requireJson(req);
        SpeechCreateRequest r = parser.parse(Bodies.read(req, config.maxBodyBytes()));
        try {
            Pauses.validate(r.input());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid("input", "invalid_value", "Invalid 'input': " + e.getMessage() + ".");
        }
        String warning = r.ignoredParametersWarning();
        if (warning != null) {
            res.header(WARNING_HEADER, warning);
        }
        if (!config.speech().models().contains(r.model())) {
            throw ApiException.invalid("model", "model_not_found", "The model '" + r.model()
                    + "' does not exist. Available models: " + String.join(", ", config.speech().models()) + ".");
        }
        SpeechSynthesizer engine = engines.require();
        String voiceId = voices.resolve(r.voice(), engine);
        AudioFormat format = AudioFormat.valueOf(r.responseFormatOrDefault().name());
        SpeechRequest sr = toEngine(r, voiceId, format);
        try {
            if (r.streamFormatOrDefault() == StreamFormat.SSE) {
                responder.streamSse(req, res, engine.stream(sr), format, t0);
            } else if (Boolean.FALSE.equals(r.stream())) {
                responder.synthesizeFile(req, res, engine, sr, format, t0);
            } else {
                responder.streamAudio(req, res, engine.stream(sr), format, t0);
            }
        } catch (EngineException e) {
            throw ErrorResponses.fromEngine(e, r.voice().byId() ? "voice.id" : "voice", false);
        }
    }

    private SpeechRequest toEngine(SpeechCreateRequest r, String voiceId, AudioFormat format) {
        Integer maxTokens = r.maxTokens() != null ? r.maxTokens() : config.speech().maxTokens();
        try {
            return SpeechRequest.builder(r.input()).voiceId(voiceId).speed(r.speedOrDefault())
                    .seed(r.seed()).temperature(r.temperature()).topK(r.topK()).topP(r.topP())
                    .repetitionPenalty(r.repetitionPenalty()).maxTokens(maxTokens).build();
        } catch (IllegalArgumentException e) {
            throw ApiException.invalid(null, "invalid_value", e.getMessage());
        }
    }
}
