/**
 * The OpenAI-compatible text-to-speech server ({@link dev.localai.tts.server.TtsServer}, started by
 * {@link dev.localai.tts.server.Main}): Helidon SE 4 over the SDK's speech engine.
 */
package dev.localai.tts.server;
