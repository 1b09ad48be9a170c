package dev.localai.tts.core.voice;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.Device;
import java.nio.file.Path;
import java.util.Map;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.T_TensorTensorTensor_T;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * The LSTM speaker encoder that produces T3's speaker embedding (upstream {@code VoiceEncoder}, weights
 * {@code ve.safetensors}). {@link #embed(float[])} does what {@code embeds_from_wavs([wav], 16000)} does: trim
 * silence (top 20 dB), power mel, split into 160-frame partials every 77 frames, LSTM + projection + ReLU +
 * L2-normalisation per partial, mean, L2-normalisation.
 *
 * <p>Thread-safe for concurrent {@code embed} calls (weights are read-only). Close to free the native weights.
 */
public final class VoiceEncoder implements AutoCloseable {

    /** What one embedding call computed (the golden {@code ve} stage's names). */
    public record Result(int trimStart, int trimEnd, int melFrames, float[] mel, float[] embedding) {
    }

    private final VoiceEncoderConfig config;
    private final VoiceEncoderFrontEnd frontEnd;
    private final Device device;
    // lstm.*
    private final Tensor[] weightIh;
    private final Tensor[] weightHh;
    private final Tensor[] biasIh;
    private final Tensor[] biasHh;
    // proj.*
    private final Tensor projWeight;
    private final Tensor projBias;
    // training-only cosine-similarity scale, loaded for completeness
    private final Tensor similarityWeight;
    private final Tensor similarityBias;
    private final Weights weights = new Weights();

    private VoiceEncoder(VoiceEncoderConfig c, StateDict sd) {
        ParamSource params = weights.track(ParamSource.of(sd));
        this.config = c;
        this.device = sd.device();
        this.frontEnd = new VoiceEncoderFrontEnd(c);
        Map<String, long[]> shapes = VoiceEncoderConfig.stateDictShapes(c);
        int l = c.layers();
        weightIh = new Tensor[l];
        weightHh = new Tensor[l];
        biasIh = new Tensor[l];
        biasHh = new Tensor[l];
        for (int i = 0; i < l; i++) {
            weightIh[i] = take(params, shapes, "lstm.weight_ih_l" + i);
            weightHh[i] = take(params, shapes, "lstm.weight_hh_l" + i);
            biasIh[i] = take(params, shapes, "lstm.bias_ih_l" + i);
            biasHh[i] = take(params, shapes, "lstm.bias_hh_l" + i);
        }
        projWeight = take(params, shapes, "proj.weight");
        projBias = take(params, shapes, "proj.bias");
        similarityWeight = take(params, shapes, "similarity_weight");
        similarityBias = take(params, shapes, "similarity_bias");
        sd.requireAllConsumed();
    }

    private static Tensor take(ParamSource params, Map<String, long[]> shapes, String key) {
        return params.take(key, shapes.get(key));
    }

    /** Loads from a state dict whose keys are {@code ve.safetensors}' (every key must be consumed). */
    public static VoiceEncoder load(VoiceEncoderConfig config, StateDict sd) {
        return new VoiceEncoder(config, sd);
    }

    /** Loads {@code ve.safetensors} from a file. */
    public static VoiceEncoder load(VoiceEncoderConfig config, Path veSafetensors, Device device) {
        try (StateDict sd = StateDict.open(veSafetensors, device)) {
            return new VoiceEncoder(config, sd);
        }
    }

    public VoiceEncoderConfig config() {
        return config;
    }

    /** Speaker embedding (L2-normalised, {@code embedding} values) of a 16 kHz mono clip. */
    public float[] embed(float[] wav16k) {
        return embedWithTrace(wav16k).embedding();
    }

    /** {@link #embed(float[])} with its intermediates. */
    public Result embedWithTrace(float[] wav16k) {
        float[] wav = wav16k;
        int[] iv = {0, wav.length};
        if (config.trimTopDb() > 0) {
            iv = VoiceEncoderFrontEnd.trimInterval(wav16k, config.trimTopDb());
            wav = java.util.Arrays.copyOfRange(wav16k, iv[0], iv[1]);
        }
        if (wav.length == 0) {
            throw new IllegalArgumentException("nothing is left of the clip after trimming silence");
        }
        float[] mel = frontEnd.mel(wav);
        int frames = mel.length / config.numMels();
        float[] emb = embedMel(mel, frames);
        return new Result(iv[0], iv[1], frames, mel, emb);
    }

    /** Number of partials and the padded frame count for a mel of {@code frames} frames (upstream get_num_wins). */
    static int[] partials(int frames, int step, int win, double minCoverage) {
        int span = Math.max(frames - win + step, 0);
        int n = span / step;
        int rem = span % step;
        if (n == 0 || (rem + (win - step)) / (double) win >= minCoverage) {
            n++;
        }
        return new int[] {n, win + step * (n - 1)};
    }

    /** Embedding of a time-first power mel ({@code frames x numMels}). */
    public float[] embedMel(float[] mel, int frames) {
        int m = config.numMels();
        int win = config.partialFrames();
        int step = config.frameStep();
        int[] p = partials(frames, step, win, config.minCoverage());
        int n = p[0];
        int target = p[1];
        float[] batch = new float[n * win * m];
        for (int i = 0; i < n; i++) {
            int src = i * step * m;
            int len = Math.max(0, Math.min(win * m, frames * m - src)); // beyond the mel: zero padding
            System.arraycopy(mel, src, batch, i * win * m, len);
        }
        assert target >= 0;
        try (PointerScope scope = new PointerScope()) {
            Tensor x = torch.from_blob(new FloatPointer(batch), new long[] {n, win, m},
                    new TensorOptions(ScalarType.Float)).to(device.torchDevice(), ScalarType.Float);
            Tensor h0 = torch.zeros(new long[] {config.layers(), n, config.hidden()},
                    new TensorOptions(ScalarType.Float)).to(device.torchDevice(), ScalarType.Float);
            TensorVector hx = new TensorVector(h0, h0);
            TensorVector params = new TensorVector();
            for (int l = 0; l < config.layers(); l++) {
                params.push_back(weightIh[l]);
                params.push_back(weightHh[l]);
                params.push_back(biasIh[l]);
                params.push_back(biasHh[l]);
            }
            T_TensorTensorTensor_T out = torch.lstm(x, hx, params, true, config.layers(), 0.0, false, false, true);
            Tensor hn = out.get1();                       // (layers, n, hidden)
            Tensor top = hn.select(0, config.layers() - 1); // (n, hidden)
            Tensor raw = torch.linear(top, projWeight, projBias);
            if (config.finalRelu()) {
                raw = raw.relu();
            }
            Tensor norms = torch.linalg_vector_norm(raw, new org.bytedeco.pytorch.Scalar(2.0), new long[] {1}, true,
                    new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor partial = raw.div(norms);
            Tensor mean = partial.mean(new long[] {0}, false, new org.bytedeco.pytorch.ScalarTypeOptional());
            Tensor norm = torch.linalg_vector_norm(mean);
            Tensor emb = mean.div(norm);
            return TensorArrays.floats(emb);
        }
    }

    @Override
    public void close() {
        weights.close();
    }
}
