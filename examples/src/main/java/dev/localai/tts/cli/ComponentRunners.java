package dev.localai.tts.cli;

import dev.localai.tts.core.parity.CampPlusComponent;
import dev.localai.tts.core.parity.CondsComponent;
import dev.localai.tts.core.parity.E2eComponent;
import dev.localai.tts.core.parity.EmbedRefComponent;
import dev.localai.tts.core.parity.HiftComponent;
import dev.localai.tts.core.parity.LoudnessComponent;
import dev.localai.tts.core.parity.S3GenComponent;
import dev.localai.tts.core.parity.S3TokenizerComponent;
import dev.localai.tts.core.parity.T3Component;
import dev.localai.tts.core.parity.TokenizerComponent;
import dev.localai.tts.core.parity.VoiceEncoderComponent;
import java.util.LinkedHashMap;
import java.util.Map;

/** The model components behind {@code tts component STAGE}, in pipeline order, keyed by the golden stage names. */
final class ComponentRunners {
    private ComponentRunners() {
    }

    static Map<String, ComponentRunner> builtIn() {
        Map<String, ComponentRunner> m = new LinkedHashMap<>();
        m.put("tokenizer", TokenizerComponent::run);
        // one T3 runner writes the names of all three T3 goldens (sampling by in.uniforms when present)
        m.put("t3", T3Component::run);
        m.put("t3_prefill", T3Component::run);
        m.put("t3_greedy", T3Component::run);
        m.put("t3_sampled", T3Component::run);
        m.put("ve", VoiceEncoderComponent::run);
        m.put("s3tokenizer", S3TokenizerComponent::run);
        m.put("campplus", CampPlusComponent::run);
        m.put("embed_ref", EmbedRefComponent::run);
        m.put("loudness", LoudnessComponent::run);
        m.put("conds", CondsComponent::run);
        m.put("s3gen", S3GenComponent::run);
        m.put("hift", HiftComponent::run);
        m.put("e2e", E2eComponent::run);
        return m;
    }
}
