package dev.localai.tts.core.voice;

/** A voice library operation failed: unknown or duplicate name, corrupt entry, I/O failure. */
public class VoiceLibraryException extends RuntimeException {

    public VoiceLibraryException(String message) {
        super(message);
    }

    public VoiceLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
