package dev.localai.tts.api;

/**
 * The final SSE event {@code {"type":"speech.audio.done","usage":{...}}}.
 *
 * @param type  always {@value #TYPE}
 * @param usage token usage
 */
public record SpeechAudioDoneEvent(String type, Usage usage) {
    public static final String TYPE = "speech.audio.done";

    public static SpeechAudioDoneEvent of(Usage usage) {
        return new SpeechAudioDoneEvent(TYPE, usage);
    }
}
