package dev.localai.tts.core.audio;

/** The input could not be opened or decoded as audio (unknown container, corrupt data, no audio stream). */
public final class UndecodableAudioException extends AudioException {

    public UndecodableAudioException(String message) {
        super(message);
    }

    public UndecodableAudioException(String message, Throwable cause) {
        super(message, cause);
    }
}
