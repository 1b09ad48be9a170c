package dev.localai.tts.core.audio.encode;

/** An encoder was handed a NaN or infinite sample; nothing of that block was encoded. */
public final class NonFiniteAudioException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    NonFiniteAudioException(float value, int index) {
        super("audio sample " + index + " of the block is " + value + "; only finite samples can be encoded");
    }
}
