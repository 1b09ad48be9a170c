package dev.localai.tts.server.voices;

import com.fasterxml.jackson.databind.JsonNode;
import dev.localai.tts.api.ApiErrors;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.Json;
import dev.localai.tts.api.Utf8;
import dev.localai.tts.api.VoiceList;
import dev.localai.tts.api.VoiceObject;
import dev.localai.tts.core.audio.AudioFormat;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.core.engine.api.VoiceInfo;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.Bodies;
import dev.localai.tts.server.http.ErrorResponses;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.http.Multipart;
import dev.localai.tts.server.http.RequestIds;
import dev.localai.tts.server.http.Routes;
import dev.localai.tts.server.speech.AudioResponder;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The voice library over HTTP:
 * <ul>
 *   <li>{@code GET /v1/audio/voices}: {@code {"object":"list","voices":[{"id","name",...}],"voice_map":{...}}}
 *       (the voice map: OpenAI voice names and the library voice each stands for), or
 *       {@code {"voices":["id",...]}} with {@code ?legacy=true} / {@code ?format=strings};</li>
 *   <li>{@code POST /v1/audio/voices}: multipart upload of a reference clip ({@code audio_sample}, also
 *       {@code file}/{@code audio}) with a {@code name}, answered 201 with the voice; the clip is spooled to disk
 *       as it arrives, and uploads take places from a small pool ({@code server.max-uploads}, 429 when full);</li>
 *   <li>{@code GET /v1/audio/voices/{id}}, {@code PATCH} (rename with {@code {"name": ...}}), {@code DELETE}; an
 *       id matches regardless of case, and answers carry the id as stored;</li>
 *   <li>{@code GET /v1/audio/voices/{id}/preview[?response_format=mp3&input=...]}: a short sample in that voice.</li>
 * </ul>
 */
public final class VoicesService implements HttpService {
    private static final int MAX_PREVIEW_CHARS = 300;
    private static final Logger LOG = Logger.getLogger(VoicesService.class.getName());
    /** Where uploads are spooled while they arrive (deleted when the request ends). */
    private static final Path SPOOL = Path.of(System.getProperty("java.io.tmpdir"));

    private final ServerConfig config;
    private final EngineSupervisor engines;
    private final AudioResponder responder;
    private final Lifecycle lifecycle;
    private final UploadSlots uploads;

    public VoicesService(ServerConfig config, EngineSupervisor engines, AudioResponder responder, Lifecycle lifecycle) {
        this.config = config;
        this.engines = engines;
        this.responder = responder;
        this.lifecycle = lifecycle;
        this.uploads = new UploadSlots(config.maxUploads());
    }

    /** Uploads holding a place now. */
    public long uploadsInProgress() {
        return uploads.taken();
    }

    @Override
    public void routing(HttpRules rules) {
        rules.get(Routes.VOICES, this::list)
                .post(Routes.VOICES, this::upload)
                .get(Routes.VOICES + "/{id}/preview", this::preview)
                .get(Routes.VOICES + "/{id}", this::get)
                .patch(Routes.VOICES + "/{id}", this::rename)
                .delete(Routes.VOICES + "/{id}", this::delete);
    }

    private void list(ServerRequest req, ServerResponse res) {
        List<VoiceInfo> voices = engines.require().voices();
        boolean legacy = req.query().first("legacy").map(v -> v.equalsIgnoreCase("true")).orElse(false)
                || req.query().first("format").map(v -> v.equalsIgnoreCase("strings")).orElse(false);
        if (legacy) {
            json(res, 200, new VoiceList.LegacyVoiceList(voices.stream().map(VoiceInfo::id).toList()));
        } else {
            json(res, 200, VoiceList.of(voices.stream().map(VoicesService::wire).toList(), config.speech().voiceMap()));
        }
    }

    private void get(ServerRequest req, ServerResponse res) {
        json(res, 200, wire(stored(engines.require(), req.path().pathParameters().get("id"))));
    }

    /**
     * The voice a path names: the exact id, else the one id that differs only in case (the library's names are
     * case-insensitive), so that every route answers with the id as stored.
     */
    private static VoiceInfo stored(SpeechSynthesizer engine, String id) {
        List<VoiceInfo> all = engine.voices();
        return all.stream().filter(v -> v.id().equals(id)).findFirst()
                .or(() -> all.stream().filter(v -> v.id().equalsIgnoreCase(id)).findFirst())
                .orElseThrow(() -> notFound(id));
    }

    private void upload(ServerRequest req, ServerResponse res) {
        lifecycle.requireAccepting();
        String ct = req.headers().first(HeaderNames.CONTENT_TYPE).orElse(null);
        if (!Bodies.mediaType(req).equals("multipart/form-data")) {
            throw ApiErrors.unsupportedMediaType(Bodies.mediaType(req), "multipart/form-data with 'name' and "
                    + "'audio_sample'");
        }
        SpeechSynthesizer engine = engines.require();
        try (UploadSlots.Place place = uploads.take();
             Multipart form = Multipart.read(ct, Bodies.open(req, config.maxUploadBytes()), SPOOL)) {
            String name = form.part("name").map(Multipart.Part::text).map(String::trim).orElseThrow(() ->
                    ApiException.invalid("name", "missing_required_parameter", "Missing required field: 'name'."));
            if (name.isEmpty()) {
                throw ApiException.invalid("name", "invalid_value", "'name' must not be empty.");
            }
            Multipart.Part clip = form.anyPart("audio_sample", "file", "audio").orElseThrow(() ->
                    ApiException.invalid("audio_sample", "missing_required_parameter",
                            "Missing required file field: 'audio_sample' (a reference clip of at least 5 seconds)."));
            if (clip.size() == 0) {
                throw ApiException.invalid("audio_sample", "invalid_audio",
                        "The uploaded file 'audio_sample' is empty.");
            }
            VoiceInfo v = engine.addVoice(name, clip.data());
            json(res, 201, wire(v));
        } catch (EngineException e) {
            throw ErrorResponses.fromEngine(e, "name", false);
        } catch (UncheckedIOException e) {
            LOG.log(Level.WARNING, "request " + RequestIds.of(req) + ": the upload could not be spooled: "
                    + e.getCause());
            throw ApiErrors.internal("The upload could not be stored for processing (request " + RequestIds.of(req)
                    + "); see the server log.");
        }
    }

    private void rename(ServerRequest req, ServerResponse res) {
        lifecycle.requireAccepting();
        String id = req.path().pathParameters().get("id");
        Bodies.requireJson(req);
        byte[] body = Bodies.read(req, config.maxBodyBytes());
        Utf8.require(body);
        JsonNode n;
        try {
            n = Json.MAPPER.readTree(body);
        } catch (IOException e) {
            throw ApiException.invalid(null, "invalid_json", "The body must be a JSON object {\"name\": \"...\"}.");
        }
        if (n == null || !n.isObject()) {
            throw ApiException.invalid(null, "invalid_type", "The body must be a JSON object {\"name\": \"...\"}.");
        }
        JsonNode name = n.get("name");
        if (name == null || name.isNull()) {
            throw ApiException.invalid("name", "missing_required_parameter", "Missing required parameter: 'name'.");
        }
        if (!name.isTextual()) {
            throw ApiException.invalid("name", "invalid_type", "Invalid type for 'name': expected a string.");
        }
        SpeechSynthesizer engine = engines.require();
        VoiceInfo voice = stored(engine, id);
        try {
            json(res, 200, wire(engine.renameVoice(voice.id(), name.asText().trim())));
        } catch (EngineException e) {
            throw e.kind() == EngineException.Kind.INVALID_REQUEST
                    ? ApiException.invalid("name", "invalid_value", e.getMessage())
                    : ErrorResponses.fromEngine(e, "id", true);
        }
    }

    private void delete(ServerRequest req, ServerResponse res) {
        lifecycle.requireAccepting();
        String id = req.path().pathParameters().get("id");
        SpeechSynthesizer engine = engines.require();
        String storedId = stored(engine, id).id();
        boolean deleted;
        try {
            deleted = engine.deleteVoice(storedId);
        } catch (EngineException e) {
            throw ErrorResponses.fromEngine(e, "id", true);
        }
        if (!deleted) {
            throw notFound(id);
        }
        json(res, 200, new Deleted(storedId, "audio.voice.deleted", true));
    }

    private void preview(ServerRequest req, ServerResponse res) {
        long t0 = System.nanoTime();
        lifecycle.requireAccepting();
        String id = req.path().pathParameters().get("id");
        String fmt = req.query().first("response_format").asOptional()
                .or(() -> req.query().first("format").asOptional()).orElse("mp3");
        AudioFormat format = AudioFormat.fromName(fmt).filter(f -> f.wireName().equals(fmt.toLowerCase(Locale.ROOT)))
                .orElseThrow(() -> ApiException.invalid("response_format", "invalid_value",
                        "Invalid value for 'response_format': '" + fmt + "'. Supported values are: mp3, opus, aac, "
                                + "flac, wav, pcm."));
        String text = req.query().first("input").orElse(config.speech().previewText());
        if (text.isBlank() || text.length() > MAX_PREVIEW_CHARS) {
            throw ApiException.invalid("input", "invalid_value", "A preview's 'input' must be 1 to "
                    + MAX_PREVIEW_CHARS + " characters.");
        }
        SpeechSynthesizer engine = engines.require();
        SpeechRequest.Builder b = SpeechRequest.builder(text).voiceId(stored(engine, id).id());
        if (config.speech().maxTokens() != null) {
            b.maxTokens(config.speech().maxTokens());
        }
        try {
            responder.synthesizeFile(req, res, engine, b.build(), format, t0);
        } catch (EngineException e) {
            throw ErrorResponses.fromEngine(e, "id", true);
        }
    }

    private static ApiException notFound(String id) {
        return ApiErrors.notFound("id", "voice_not_found", "No voice with id '" + id + "'.");
    }

    static VoiceObject wire(VoiceInfo v) {
        return VoiceObject.of(v.id(), v.name(), v.createdAt().getEpochSecond(), v.builtIn());
    }

    static void json(ServerResponse res, int status, Object body) {
        res.status(status);
        res.header(HeaderNames.CONTENT_TYPE, "application/json");
        res.send(Json.bytes(body));
    }

    /**
     * The answer to a deletion, shaped like OpenAI's deletion responses.
     *
     * @param id      the deleted voice
     * @param object  {@code audio.voice.deleted}
     * @param deleted always {@code true}
     */
    record Deleted(String id, String object, boolean deleted) {
    }
}
