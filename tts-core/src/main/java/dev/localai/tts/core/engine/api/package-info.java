/**
 * The public surface of the SDK's speech engine, shared by the server and by JVM users: requests
 * ({@link dev.localai.tts.core.engine.api.SpeechRequest}), results ({@link dev.localai.tts.core.engine.api.AudioClip},
 * {@link dev.localai.tts.core.engine.api.AudioChunk}) and the {@link dev.localai.tts.core.engine.api.SpeechSynthesizer}
 * contract that the engine implements over the model.
 *
 * <p>Audio is always mono float PCM in [-1, 1] at {@link dev.localai.tts.core.engine.api.AudioClip#SAMPLE_RATE}
 * (24 kHz, Chatterbox's native rate); encoding to a container is done by {@code dev.localai.tts.core.audio.encode}.
 */
package dev.localai.tts.core.engine.api;
