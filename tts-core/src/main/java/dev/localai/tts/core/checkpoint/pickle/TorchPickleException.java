package dev.localai.tts.core.checkpoint.pickle;

/** A torch.save file (zip + pickle) could not be read or written; the message names the file and the cause. */
public class TorchPickleException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TorchPickleException(String message) {
        super(message);
    }

    public TorchPickleException(String message, Throwable cause) {
        super(message, cause);
    }
}
