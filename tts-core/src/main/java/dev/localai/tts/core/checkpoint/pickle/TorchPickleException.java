package dev.localai.tts.core.checkpoint.pickle;

import dev.localai.tts.core.checkpoint.CheckpointException;

/** A torch.save file (zip + pickle) could not be read or written; the message names the file and the cause. */
public class TorchPickleException extends CheckpointException {
    private static final long serialVersionUID = 1L;

    public TorchPickleException(String message) {
        super(message);
    }

    public TorchPickleException(String message, Throwable cause) {
        super(message, cause);
    }
}
