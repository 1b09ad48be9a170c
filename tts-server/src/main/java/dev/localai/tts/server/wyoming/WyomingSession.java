package dev.localai.tts.server.wyoming;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.localai.tts.api.ApiException;
import dev.localai.tts.api.VoiceRef;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechSynthesizer;
import dev.localai.tts.server.config.ServerConfig;
import dev.localai.tts.server.engine.EngineSupervisor;
import dev.localai.tts.server.http.Hangups;
import dev.localai.tts.server.http.Lifecycle;
import dev.localai.tts.server.speech.VoiceResolver;
import java.io.IOException;
import java.util.function.Function;

/**
 * One client's conversation: reads events and answers them in order, on the connection's own thread.
 *
 * <ul>
 *   <li>{@code describe} → {@code info}; {@code ping} → {@code pong};</li>
 *   <li>{@code synthesize} (outside a stream) → one audio-start ... audio-stop;</li>
 *   <li>{@code synthesize-start} (voice checked at once), {@code synthesize-chunk}s (each completed sentence spoken
 *       as its own audio-start ... audio-stop), {@code synthesize-stop} (the rest, then {@code synthesize-stopped}).
 *       The whole-text {@code synthesize} that Home Assistant sends inside a stream for older servers is ignored;</li>
 *   <li>other event types are ignored, as the protocol asks.</li>
 * </ul>
 * Any refusal is a {@link WyomingException}: the caller sends it as an {@code error} event and closes the connection.
 */
final class WyomingSession {
    private final ServerConfig config;
    private final EngineSupervisor engines;
    private final Lifecycle lifecycle;
    private final VoiceResolver voices;
    private final TtsInfo info;
    private final AudioSender sender;
    private final EventWriter out;
    private final Runnable onSynthesis;
    private final Runnable afterSynthesis;
    /** Watches this connection for the client closing it while a text is spoken ({@link Hangups}). */
    private final Function<Runnable, Hangups.Watch> hangups;

    /** Whether a stream (synthesize-start ... synthesize-stop) is open. */
    private boolean streaming;
    /** The voice of the stream in progress ({@code null}: the built-in voice). */
    private String streamVoice;
    private SentenceBuffer streamText;

    WyomingSession(ServerConfig config, EngineSupervisor engines, Lifecycle lifecycle, TtsInfo info,
                   AudioSender sender, EventWriter out, Runnable onSynthesis, Runnable afterSynthesis,
                   Function<Runnable, Hangups.Watch> hangups) {
        this.config = config;
        this.engines = engines;
        this.lifecycle = lifecycle;
        this.voices = new VoiceResolver(config.speech().voiceMap());
        this.info = info;
        this.sender = sender;
        this.out = out;
        this.onSynthesis = onSynthesis;
        this.afterSynthesis = afterSynthesis;
        this.hangups = hangups;
    }

    /** Answers one event. */
    void handle(WyomingEvent e) throws IOException {
        switch (e.type()) {
            case WyomingEvent.DESCRIBE -> {
                SpeechSynthesizer engine = engines.engineOrNull();
                out.send(info.event(engine == null ? null : engine.voices()));
            }
            case WyomingEvent.PING -> {
                ObjectNode d = WyomingEvent.object();
                JsonNode text = e.data().get("text");
                if (text != null && text.isTextual()) {
                    d.put("text", text.asText());
                }
                out.send(WyomingEvent.of(WyomingEvent.PONG, d));
            }
            case WyomingEvent.SYNTHESIZE -> {
                if (!streaming) {
                    String text = text(e, true);
                    speak(text, voice(e));
                }
            }
            case WyomingEvent.SYNTHESIZE_START -> {
                if (streaming) {
                    throw unexpected(e, "a stream is already open");
                }
                streamVoice = voice(e);
                streaming = true;
                streamText = new SentenceBuffer(config.wyoming().maxTextChars());
            }
            case WyomingEvent.SYNTHESIZE_CHUNK -> {
                if (!streaming) {
                    throw unexpected(e, "no synthesize-start came first");
                }
                String ready = streamText.add(text(e, false));
                if (!ready.isBlank()) {
                    speak(ready, streamVoice);
                }
            }
            case WyomingEvent.SYNTHESIZE_STOP -> {
                if (!streaming) {
                    throw unexpected(e, "no synthesize-start came first");
                }
                String rest = streamText.finish();
                if (!rest.isBlank()) {
                    speak(rest, streamVoice);
                }
                streaming = false;
                streamVoice = null;
                streamText = null;
                out.send(WyomingEvent.of(WyomingEvent.SYNTHESIZE_STOPPED));
            }
            default -> {
                // events of other services (and newer ones) are not for us
            }
        }
    }

    private void speak(String text, String voiceId) throws IOException {
        if (lifecycle.draining()) {
            throw new WyomingException("shutting_down", "The server is shutting down.");
        }
        SpeechSynthesizer engine = engine();
        SpeechRequest request;
        try {
            request = SpeechRequest.builder(text).voiceId(voiceId)
                    .maxTokens(config.speech().maxTokens()).build();
        } catch (IllegalArgumentException x) {
            throw new WyomingException("invalid_request", x.getMessage());
        }
        onSynthesis.run();
        try {
            sender.speak(engine, request, out, hangups);
        } finally {
            afterSynthesis.run();
        }
    }

    /**
     * The library id of the event's {@code voice.name}, or {@code null} (the built-in voice) when it names none. The
     * engine must be ready: a stream fails at its start rather than at its first sentence.
     */
    private String voice(WyomingEvent e) {
        SpeechSynthesizer engine = engine();
        JsonNode v = e.data().get("voice");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isObject()) {
            throw new WyomingException("invalid_event", "\"voice\" must be an object such as {\"name\": \"default\"}.");
        }
        JsonNode name = v.get("name");
        if (name == null || name.isNull()) {
            // a voice chosen by language alone: every voice speaks the configured languages
            return null;
        }
        if (!name.isTextual() || name.asText().isBlank()) {
            throw new WyomingException("invalid_event", "\"voice.name\" must be a non-empty string.");
        }
        try {
            return voices.resolve(VoiceRef.name(name.asText()), engine);
        } catch (ApiException x) {
            throw new WyomingException(x.error().code(), x.error().message());
        }
    }

    private String text(WyomingEvent e, boolean whole) {
        JsonNode t = e.data().get("text");
        if (t == null || !t.isTextual()) {
            throw new WyomingException("invalid_event", "\"" + e.type() + "\" needs a \"text\" string.");
        }
        String text = t.asText();
        if (whole && text.isBlank()) {
            throw new WyomingException("empty_text", "There is no text to speak.");
        }
        if (whole && text.length() > config.wyoming().maxTextChars()) {
            throw new WyomingException("text_too_long", "The text has " + text.length() + " characters; at most "
                    + config.wyoming().maxTextChars() + " are accepted in one synthesize (stream longer texts with "
                    + "synthesize-start/-chunk/-stop).");
        }
        return text;
    }

    private SpeechSynthesizer engine() {
        try {
            return engines.require();
        } catch (ApiException x) {
            throw new WyomingException(x.error().code(), x.error().message());
        }
    }

    private static WyomingException unexpected(WyomingEvent e, String why) {
        return new WyomingException("unexpected_event", "Unexpected \"" + e.type() + "\": " + why + ".");
    }
}
