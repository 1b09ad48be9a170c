package dev.localai.tts.cuda;

/** A CUDA device was asked for but cannot be used: no GPU, no CUDA build of LibTorch, a bad ordinal, a CUDA error. */
public class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CudaException(String message) {
        super(message);
    }

    public CudaException(String message, Throwable cause) {
        super(message, cause);
    }
}
