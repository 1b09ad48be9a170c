package dev.localai.tts.core.checkpoint;

/**
 * A checkpoint file is missing, corrupt, truncated, or does not match the model configuration.
 * The message always names the file and, where there is one, the tensor key.
 */
public class CheckpointException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
