package dev.localai.tts.core.engine.api;

/**
 * Creates the engine from a configuration. The server finds its provider with {@link java.util.ServiceLoader} (or by
 * class name from its configuration), so the engine can be plugged in without the server depending on it.
 * {@link #create} may return before the model is loaded, reporting progress through
 * {@link SpeechSynthesizer#health()}; it may also block while loading, in which case the server reports
 * {@link EngineHealth.State#LOADING} meanwhile.
 */
public interface SpeechSynthesizerProvider {

    /** A short name for logs and the {@code engine.provider} setting, e.g. {@code chatterbox}. */
    String name();

    /**
     * Builds the engine.
     *
     * @throws RuntimeException when the model cannot be had; the message is shown by the readiness probe
     */
    SpeechSynthesizer create(EngineConfig config);
}
