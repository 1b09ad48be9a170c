/** {@code POST /v1/audio/speech}: request handling, voice resolution and the three ways audio is written. */
package dev.localai.tts.server.speech;
