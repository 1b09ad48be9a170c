package dev.localai.tts.core.parity;

import dev.localai.tts.core.audio.MonoAudio;
import dev.localai.tts.core.audio.PreparedReference;
import dev.localai.tts.core.audio.ReferenceAudio;
import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.SafeTensors;
import dev.localai.tts.core.checkpoint.SafeTensorsWriter;
import dev.localai.tts.core.engine.VoiceCloner;
import dev.localai.tts.core.runtime.Torch;
import dev.localai.tts.core.voice.Conditionals;
import dev.localai.tts.core.voice.TensorArrays;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.bytedeco.pytorch.Tensor;

/**
 * {@code tts component conds}: a reference clip to the full conditionals, as upstream's {@code prepare_conditionals}
 * computes them (through the engine's own cloning path, {@link VoiceCloner}).
 *
 * <p>Reads {@code in.wav24k} (float32, 24 kHz mono). With {@code in.wav16k} as well, both are taken as they are: the
 * signals after upstream's loading, loudness normalisation and resampling (the goldens start there). Without it, the
 * 24 kHz clip goes through the whole front end first: more than 5 s required, normalised to -27 LUFS, resampled to
 * 16 kHz. Writes the conditionals under the names of conds.pt / the e2e stage, with {@code out.}:
 * {@code out.speaker_emb} (1, 256), {@code out.cond_prompt_speech_tokens} (1, P), {@code out.emotion_adv} (1, 1, 1),
 * {@code out.prompt_token} (1, P2), {@code out.prompt_token_len} (1), {@code out.prompt_feat} (1, M, 80) and
 * {@code out.embedding} (1, 192).
 */
public final class CondsComponent {
    private CondsComponent() {
    }

    public static void run(Path modelDir, Path inFile, Path outFile) {
        Torch.load();
        PreparedReference ref;
        boolean given16k;
        try (SafeTensors in = SafeTensors.open(inFile)) {
            float[] wav24 = floats(in, "in.wav24k");
            given16k = in.contains("in.wav16k");
            ref = given16k
                    ? new PreparedReference(new MonoAudio(wav24, ReferenceAudio.SR_24K),
                            new MonoAudio(floats(in, "in.wav16k"), ReferenceAudio.SR_16K), Double.NaN)
                    : ReferenceAudio.prepare(new MonoAudio(wav24, ReferenceAudio.SR_24K), true);
        }
        Conditionals c;
        try (VoiceCloner cloner = VoiceCloner.load(modelDir)) {
            c = cloner.fromReference(ref);
        }
        Map<String, Tensor> out = new LinkedHashMap<>();
        try {
            out.put("out.speaker_emb", c.speakerEmbTensor());
            out.put("out.cond_prompt_speech_tokens", c.condPromptSpeechTokensTensor());
            out.put("out.emotion_adv", c.emotionAdvTensor());
            out.put("out.prompt_token", c.promptTokenTensor());
            out.put("out.prompt_token_len", c.promptTokenLenTensor());
            out.put("out.prompt_feat", c.promptFeatTensor());
            out.put("out.embedding", c.embeddingTensor());
            SafeTensorsWriter.write(outFile, out, Map.of("stage", "conds",
                    "front_end", given16k ? "in.wav24k and in.wav16k as given"
                            : "in.wav24k normalised to -27 LUFS, resampled to 16 kHz",
                    "producer", CondsComponent.class.getName()));
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    private static float[] floats(SafeTensors in, String key) {
        if (!in.contains(key)) {
            throw new CheckpointException(in.path() + " has no '" + key + "' tensor");
        }
        try (Tensor t = in.tensor(key)) {
            return TensorArrays.floats(t);
        }
    }
}
