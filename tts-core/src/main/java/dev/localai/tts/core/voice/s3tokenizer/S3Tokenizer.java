package dev.localai.tts.core.voice.s3tokenizer;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Weights;
import java.util.LinkedHashMap;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The S3 speech tokenizer (S3TokenizerV2, {@code speech_tokenizer_v2_25hz}) under the {@code tokenizer.} prefix of
 * {@code s3gen_meanflow.safetensors}: 16 kHz audio to 25 Hz speech tokens in [0, 6561).
 *
 * <p>Log-mel front-end ({@link S3LogMel}) with the checkpoint's {@code _mel_filters} and {@code window} buffers,
 * the {@link AudioEncoderV2}, then FSQ: {@code h = tanh(project_down(x)) * 0.999}, rounded half-to-even to
 * {-1, 0, 1}, token = sum((h_i + 1) * 3^i) over the 8 dimensions.
 */
public final class S3Tokenizer implements AutoCloseable {
    /** FSQ scale applied before rounding (the float32 value of 0.999). */
    static final float FSQ_SCALE = 0.999f;

    final Tensor melFilters; // _mel_filters (n_mels, 201)
    final Tensor window;     // window (400)
    final AudioEncoderV2 encoder;
    final Linear projectDown; // quantizer._codebook.project_down
    private final S3TokenizerConfig config;
    private final Tensor powers; // (8) float32: 3^i
    private final Weights weights = new Weights();

    /** Loads from a view whose prefix is the tokenizer's ({@code sd.sub("tokenizer")}). */
    public S3Tokenizer(StateDict checkpoint, S3TokenizerConfig config) {
        ParamSource params = weights.track(ParamSource.of(checkpoint));
        this.config = config;
        int bins = S3LogMel.N_FFT / 2 + 1;
        this.melFilters = params.take("_mel_filters", config.nMels(), bins);
        this.window = params.take("window", S3LogMel.N_FFT);
        this.encoder = new AudioEncoderV2(params.sub("encoder"), config);
        this.projectDown = new Linear(params.sub("quantizer._codebook.project_down"), config.nAudioState(),
                S3TokenizerConfig.FSQ_DIM, true);
        float[] p = new float[S3TokenizerConfig.FSQ_DIM];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) Math.pow(3, i);
        }
        try (Tensor cpu = Tensor.create(p, p.length); org.bytedeco.pytorch.Device dev = params.device().torchDevice()) {
            this.powers = params.keep(cpu.to(dev, torch.ScalarType.Float));
        }
    }

    public S3TokenizerConfig config() {
        return config;
    }

    /** Every key (with the file's {@code tokenizer.} prefix) and its shape, in a stable order. */
    public static LinkedHashMap<String, long[]> stateDictShapes(S3TokenizerConfig c) {
        LinkedHashMap<String, long[]> m = new LinkedHashMap<>();
        String p = "tokenizer";
        m.put(p + "._mel_filters", new long[] {c.nMels(), S3LogMel.N_FFT / 2 + 1});
        m.put(p + ".window", new long[] {S3LogMel.N_FFT});
        AudioEncoderV2.shapes(m, p + ".encoder", c);
        Linear.shapes(m, p + ".quantizer._codebook.project_down", c.nAudioState(), S3TokenizerConfig.FSQ_DIM, true);
        return m;
    }

    /** Number of tokens for {@code samples} 16 kHz samples (and an optional max_len cap, &lt;= 0 for none). */
    public static long tokenCount(long samples, int maxLen) {
        long frames = S3LogMel.frames(samples);
        if (maxLen > 0) {
            frames = Math.min(frames, 4L * maxLen);
        }
        return ((frames + 1) / 2 + 1) / 2;
    }

    /** Tokenizes one 16 kHz clip; {@code maxLen > 0} caps the mel frames at {@code 4 * maxLen} (upstream's max_len). */
    public Result tokenize(Tensor wav16k, int maxLen) {
        Tensor logMel;
        Tensor prequant;
        Tensor tokens;
        try (PointerScope scope = new PointerScope()) {
            Tensor wav;
            try (org.bytedeco.pytorch.Device dev = window.device()) {
                wav = wav16k.to(dev, torch.ScalarType.Float);
            }
            Tensor mel = S3LogMel.compute(wav, window, melFilters);               // (1, n_mels, T)
            if (maxLen > 0 && mel.size(2) > 4L * maxLen) {
                mel = mel.narrow(2, 0, 4L * maxLen);
            }
            Tensor hidden = encoder.forward(mel);                                 // (1, T', state)
            Tensor h = projectDown.forward(hidden).tanh().mul(new Scalar(FSQ_SCALE)); // (1, T', 8)
            Tensor digits = h.round().add(new Scalar(1.0));
            Tensor code = digits.mul(powers).sum(new long[] {-1}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            logMel = mel.contiguous();
            prequant = h.squeeze(0).contiguous();
            tokens = code.to(torch.ScalarType.Long).contiguous();
            logMel.retainReference();
            prequant.retainReference();
            tokens.retainReference();
        }
        return new Result(logMel, prequant, tokens);
    }

    /**
     * One clip's tokenization.
     *
     * @param logMel   (1, n_mels, T) front-end output (after the max_len cut)
     * @param prequant (T', 8) FSQ values just before rounding
     * @param tokens   (1, T') int64 speech tokens
     */
    public record Result(Tensor logMel, Tensor prequant, Tensor tokens) implements AutoCloseable {
        public long length() {
            return tokens.size(1);
        }

        @Override
        public void close() {
            logMel.close();
            prequant.close();
            tokens.close();
        }
    }

    @Override
    public void close() {
        weights.close();
    }

}
