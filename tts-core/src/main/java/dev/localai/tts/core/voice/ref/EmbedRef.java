package dev.localai.tts.core.voice.ref;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.voice.campplus.CampPlus;
import dev.localai.tts.core.voice.campplus.CampPlusConfig;
import dev.localai.tts.core.voice.s3tokenizer.S3Tokenizer;
import dev.localai.tts.core.voice.s3tokenizer.S3TokenizerConfig;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * S3Gen's reference embedding ({@code S3Gen.embed_ref(wav24k, 24000)}): from a 24 kHz reference clip, the 24 kHz
 * mel ({@code prompt_feat}), the torchaudio 24k -> 16k resample, the CAMPPlus x-vector and the S3 prompt tokens of
 * the 16 kHz signal (no max_len). If the mel has M frames and there are not exactly 2 tokens per frame pair, the
 * tokens are cut to {@code floor(M/2)} (prompt_feat stays whole).
 *
 * <p>Upstream callers pass at most the first 10 s ({@link #MAX_SAMPLES_24K}); this class does not cut.
 */
public final class EmbedRef implements AutoCloseable {
    public static final int SAMPLE_RATE = 24000;
    public static final int TOKENIZER_RATE = 16000;
    /** The S3Gen reference is the first 10 s of the clip in upstream's prepare_conditionals. */
    public static final int MAX_SAMPLES_24K = 10 * SAMPLE_RATE;

    private final S3Tokenizer tokenizer;
    private final CampPlus speakerEncoder;
    private final boolean owns;
    private final S3GenMel mel = new S3GenMel();
    private final SincResampler resampler = new SincResampler(SAMPLE_RATE, TOKENIZER_RATE);

    /** Uses existing modules; closing this object does not close them. */
    public EmbedRef(S3Tokenizer tokenizer, CampPlus speakerEncoder) {
        this(tokenizer, speakerEncoder, false);
    }

    private EmbedRef(S3Tokenizer tokenizer, CampPlus speakerEncoder, boolean owns) {
        this.tokenizer = tokenizer;
        this.speakerEncoder = speakerEncoder;
        this.owns = owns;
    }

    /**
     * Loads the tokenizer and speaker encoder from the root view of {@code s3gen_meanflow.safetensors}, with their
     * sizes read from the checkpoint.
     */
    public static EmbedRef load(StateDict s3genRoot) {
        StateDict t = s3genRoot.sub("tokenizer");
        StateDict s = s3genRoot.sub("speaker_encoder");
        S3Tokenizer tok = new S3Tokenizer(t, S3TokenizerConfig.inferFrom(t));
        try {
            return new EmbedRef(tok, new CampPlus(s, CampPlusConfig.inferFrom(s)), true);
        } catch (RuntimeException e) {
            tok.close();
            throw e;
        }
    }

    public S3Tokenizer tokenizer() {
        return tokenizer;
    }

    public CampPlus speakerEncoder() {
        return speakerEncoder;
    }

    /**
     * @param wav24k float32 (L) or (1, L) reference at 24 kHz
     */
    public S3GenRef embed(Tensor wav24k) {
        try (PointerScope scope = new PointerScope()) {
            Tensor wav = wav24k.reshape(1, -1).to(torch.ScalarType.Float);
            if (wav.size(1) < 2 * S3GenMel.HOP) {
                throw new IllegalArgumentException("reference clip too short: " + wav.size(1) + " samples at 24 kHz");
            }
            Tensor mel24 = mel.apply(wav);                                  // (1, 80, M)
            Tensor promptFeat = mel24.transpose(1, 2).contiguous();         // (1, M, 80)
            mel24.close();
            Tensor wav16 = resampler.apply(wav);                            // (1, L16)
            Tensor embedding = speakerEncoder.embed(wav16);                 // (1, 192)
            Tensor tokens;
            try (S3Tokenizer.Result r = tokenizer.tokenize(wav16, 0)) {
                tokens = r.tokens().clone();
            }
            long frames = promptFeat.size(1);
            if (frames != 2 * tokens.size(1)) {
                tokens = tokens.narrow(1, 0, Math.min(tokens.size(1), frames / 2)).contiguous();
            }
            long len = tokens.size(1);
            tokens.retainReference();
            promptFeat.retainReference();
            embedding.retainReference();
            wav16.retainReference();
            return new S3GenRef(tokens, len, promptFeat, embedding, wav16);
        }
    }

    @Override
    public void close() {
        mel.close();
        resampler.close();
        if (owns) {
            tokenizer.close();
            speakerEncoder.close();
        }
    }
}
