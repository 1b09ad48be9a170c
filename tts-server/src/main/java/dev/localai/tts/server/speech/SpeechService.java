package dev.localai.tts.server.speech;

import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.SpeechCreateRequest;
import dev.localai.tts.api.SpeechRequestParser;
import dev.localai.tts.api.StreamFormat;
import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.Bodies;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.http.Routes;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;

/**
 * {@code POST /v1/audio/speech}: OpenAI's speech endpoint. The body is parsed and validated (4xx with the parameter
 * at fault), the model name and voice are resolved, and the speech is streamed as audio bytes (default), as SSE
 * ({@code stream_format: "sse"}) or sent as a whole file ({@code "stream": false}).
 */
public final class SpeechService implements HttpService {
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
        rules.post(Routes.SPEECH, this::speech);
    }

    private void speech(ServerRequest req, ServerResponse res) {
        long t0 = System.nanoTime();
        lifecycle.requireAccepting();
        Bodies.requireJson(req);
        SpeechCreateRequest r = parser.parse(Bodies.read(req, config.maxBodyBytes()));
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
                responder.streamSse(res, engine.stream(sr), format, t0);
            } else if (Boolean.FALSE.equals(r.stream())) {
                responder.sendFile(res, engine.synthesize(sr), format, t0);
            } else {
                responder.streamAudio(res, engine.stream(sr), format, t0);
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
