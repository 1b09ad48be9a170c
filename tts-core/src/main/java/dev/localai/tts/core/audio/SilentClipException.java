package dev.localai.tts.core.audio;

/**
 * A reference clip holds no usable signal: every 400 ms block is below the BS.1770 absolute gate (-70 LUFS),
 * so its loudness is undefined and no voice can be taken from it.
 */
public final class SilentClipException extends AudioException {

    public SilentClipException(String message) {
        super(message);
    }
}
