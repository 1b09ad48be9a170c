package dev.localai.tts.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.localai.tts.api.SpeechRequestParser;
import dev.localai.tts.core.engine.TtsEngine;
import dev.localai.tts.core.engine.api.SpeechRequest;
import org.junit.jupiter.api.Test;

/**
 * The wire types (tts-api) and the engine (tts-core) do not depend on each other, so the few values both must know
 * are written in each; the server, which uses both, holds them equal.
 */
class WireAndEngineAgreeTest {
    @Test
    void speedLimitsAndTheDefaultVoiceAreTheSameOnTheWireAndInTheEngine() {
        assertThat(SpeechRequestParser.MIN_SPEED).isEqualTo(SpeechRequest.MIN_SPEED);
        assertThat(SpeechRequestParser.MAX_SPEED).isEqualTo(SpeechRequest.MAX_SPEED);
        assertThat(SpeechRequestParser.DEFAULT_VOICE).isEqualTo(TtsEngine.BUILTIN_VOICE);
    }
}
