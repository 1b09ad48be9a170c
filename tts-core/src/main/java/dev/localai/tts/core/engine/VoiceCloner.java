package dev.localai.tts.core.engine;

import dev.localai.tts.core.audio.PreparedReference;
import dev.localai.tts.core.audio.ReferenceAudio;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.hub.ChatterboxTurboFiles;
import dev.localai.tts.core.runtime.Device;
import dev.localai.tts.core.voice.Conditionals;
import dev.localai.tts.core.voice.TensorArrays;
import dev.localai.tts.core.voice.VoiceEncoder;
import dev.localai.tts.core.voice.VoiceEncoderConfig;
import dev.localai.tts.core.voice.ref.EmbedRef;
import dev.localai.tts.core.voice.ref.S3GenRef;
import dev.localai.tts.core.voice.s3tokenizer.S3Tokenizer;
import java.nio.file.Path;
import java.util.Arrays;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/**
 * Zero-shot voice cloning: a reference clip to the {@link Conditionals} the model conditions on, as upstream's
 * {@code prepare_conditionals} computes them:
 * <ol>
 *   <li>decode, mono, 24 kHz, normalise loudness to -27 LUFS; the same signal at 16 kHz;</li>
 *   <li>S3Gen side (first 10 s at 24 kHz): 24 kHz mel, S3 tokens of the 16 kHz resample, CAMPPlus x-vector;</li>
 *   <li>T3 side: S3 tokens of the first 15 s at 16 kHz (at most 375) and the VoiceEncoder embedding of the whole
 *       16 kHz clip; emotion_adv 0.5.</li>
 * </ol>
 * The encoders run on the CPU in fp32 (they run once per voice). Thread-safe (calls are serialised).
 */
public final class VoiceCloner implements AutoCloseable {
    /** S3Gen conditioning length: 10 s at 24 kHz. */
    public static final int DEC_COND_LEN = 10 * 24_000;
    /** T3 prompt conditioning length: 15 s at 16 kHz. */
    public static final int ENC_COND_LEN = 15 * 16_000;
    /** T3's speech_cond_prompt_len. */
    public static final int T3_PROMPT_TOKENS = 375;

    private final VoiceEncoder ve;
    private final EmbedRef embedRef;

    private VoiceCloner(VoiceEncoder ve, EmbedRef embedRef) {
        this.ve = ve;
        this.embedRef = embedRef;
    }

    /** Loads the encoders from a model directory in the official layout. */
    public static VoiceCloner load(Path modelDir) {
        VoiceEncoder ve = VoiceEncoder.load(VoiceEncoderConfig.turbo(),
                modelDir.resolve(ChatterboxTurboFiles.VOICE_ENCODER), Device.cpu());
        try (StateDict s3gen = StateDict.open(modelDir.resolve(ChatterboxTurboFiles.S3GEN), Device.cpu())) {
            return new VoiceCloner(ve, EmbedRef.load(s3gen));
        } catch (RuntimeException e) {
            ve.close();
            throw e;
        }
    }

    /** Conditionals of a reference clip file (any format FFmpeg decodes; more than 5 s). */
    public synchronized Conditionals fromClip(Path clip) {
        return fromReference(ReferenceAudio.prepare(clip));
    }

    /** Conditionals of a decoded, normalised reference. */
    public synchronized Conditionals fromReference(PreparedReference ref) {
        float[] wav24 = ref.wav24k().samples();
        float[] wav16 = ref.wav16k().samples();
        try (PointerScope scope = new PointerScope()) {
            Tensor dec = TensorArrays.tensor(Arrays.copyOf(wav24, Math.min(wav24.length, DEC_COND_LEN)), 1,
                    Math.min(wav24.length, DEC_COND_LEN));
            long[] promptToken;
            long promptTokenLen;
            float[] promptFeat;
            int frames;
            float[] embedding;
            try (S3GenRef gen = embedRef.embed(dec)) {
                promptToken = TensorArrays.longs(gen.promptToken());
                promptTokenLen = gen.promptTokenLen();
                frames = (int) gen.promptFeat().size(1);
                promptFeat = TensorArrays.floats(gen.promptFeat());
                embedding = TensorArrays.floats(gen.embedding());
            }
            int encLen = Math.min(wav16.length, ENC_COND_LEN);
            Tensor enc = TensorArrays.tensor(Arrays.copyOf(wav16, encLen), 1, encLen);
            long[] t3Tokens;
            try (S3Tokenizer.Result r = embedRef.tokenizer().tokenize(enc, T3_PROMPT_TOKENS)) {
                t3Tokens = TensorArrays.longs(r.tokens());
            }
            float[] speaker = ve.embed(wav16);
            return new Conditionals(speaker, t3Tokens, 0.5f, promptToken, promptTokenLen, promptFeat, frames, embedding);
        }
    }

    @Override
    public synchronized void close() {
        ve.close();
        embedRef.close();
    }
}
