package dev.localai.tts.core.audio;

/**
 * Base class of the typed errors raised while reading or preparing audio input (reference clips).
 * Unchecked; each subclass names one failure a caller may want to report differently.
 */
public abstract sealed class AudioException extends RuntimeException
        permits UndecodableAudioException, ClipTooShortException, ClipTooLongException, SilentClipException {

    protected AudioException(String message) {
        super(message);
    }

    protected AudioException(String message, Throwable cause) {
        super(message, cause);
    }
}
