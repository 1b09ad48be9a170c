package dev.localai.tts.core.config;

import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.model.hift.HiFTGenerator;
import dev.localai.tts.core.model.hift.HiftConfig;
import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.model.t3.T3;
import dev.localai.tts.core.model.t3.T3Config;
import dev.localai.tts.core.voice.VoiceEncoderConfig;
import dev.localai.tts.core.voice.campplus.CampPlus;
import dev.localai.tts.core.voice.campplus.CampPlusConfig;
import dev.localai.tts.core.voice.s3tokenizer.S3Tokenizer;
import dev.localai.tts.core.voice.s3tokenizer.S3TokenizerConfig;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The sizes of every Chatterbox Turbo component. {@link #turbo()} holds the official values; {@link #tiny()} the
 * small profile of the golden fixtures. Loaders read the actual sizes from the checkpoint's shapes and check every
 * tensor against them, naming the key on a mismatch; this record describes a whole model at once, for the tiny
 * checkpoint generator, the benchmarks and documentation.
 *
 * @param t3          text-to-speech-token transformer ({@code t3_turbo_v1.safetensors})
 * @param s3gen       flow decoder ({@code s3gen_meanflow.safetensors}, {@code flow.*})
 * @param hift        vocoder ({@code mel2wav.*})
 * @param campplus    x-vector speaker encoder ({@code speaker_encoder.*})
 * @param s3tokenizer speech tokenizer ({@code tokenizer.*})
 * @param ve          voice encoder ({@code ve.safetensors})
 */
public record ModelConfig(T3Config t3, S3GenConfig s3gen, HiftConfig hift, CampPlusConfig campplus,
        S3TokenizerConfig s3tokenizer, VoiceEncoderConfig ve) {

    /** The official Chatterbox Turbo sizes. */
    public static ModelConfig turbo() {
        return new ModelConfig(T3Config.turbo(), S3GenConfig.turbo(), HiftConfig.turbo(), CampPlusConfig.turbo(),
                S3TokenizerConfig.turbo(), VoiceEncoderConfig.turbo());
    }

    /** The tiny profile of {@code shared/golden/tiny} (manifest.json's arch block). */
    public static ModelConfig tiny() {
        return new ModelConfig(T3Config.tiny(), S3GenConfig.tiny(), HiftConfig.tiny(), CampPlusConfig.tiny(),
                S3TokenizerConfig.tiny(), VoiceEncoderConfig.tiny());
    }

    /**
     * Every key and shape of the three official safetensors files for these sizes, by file name, in each part's
     * module order.
     */
    public Map<String, LinkedHashMap<String, long[]>> inventory() {
        LinkedHashMap<String, long[]> s3genFile = new LinkedHashMap<>();
        s3genFile.putAll(S3GenFlow.stateDictShapes(s3gen));
        s3genFile.putAll(HiFTGenerator.stateDictShapes(hift));
        s3genFile.putAll(S3Tokenizer.stateDictShapes(s3tokenizer));
        s3genFile.putAll(CampPlus.stateDictShapes(campplus));
        Map<String, LinkedHashMap<String, long[]>> out = new LinkedHashMap<>();
        out.put(ChatterboxTurboFiles.T3, T3.stateDictShapes(t3));
        out.put(ChatterboxTurboFiles.S3GEN, s3genFile);
        out.put(ChatterboxTurboFiles.VOICE_ENCODER, VoiceEncoderConfig.stateDictShapes(ve));
        return out;
    }
}
