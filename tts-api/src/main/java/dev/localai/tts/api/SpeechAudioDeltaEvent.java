package dev.localai.tts.api;

/**
 * SSE event {@code {"type":"speech.audio.delta","audio":"<base64>"}}: a chunk of audio in the requested
 * {@code response_format} (the encoder state runs continuously across deltas; concatenating the decoded deltas gives
 * one valid file or PCM stream).
 *
 * @param type  always {@value #TYPE}
 * @param audio base64 of the chunk's bytes
 */
public record SpeechAudioDeltaEvent(String type, String audio) {
    public static final String TYPE = "speech.audio.delta";

    public static SpeechAudioDeltaEvent of(byte[] bytes) {
        return new SpeechAudioDeltaEvent(TYPE, java.util.Base64.getEncoder().encodeToString(bytes));
    }

    /** The decoded bytes. */
    public byte[] bytes() {
        return java.util.Base64.getDecoder().decode(audio);
    }
}
