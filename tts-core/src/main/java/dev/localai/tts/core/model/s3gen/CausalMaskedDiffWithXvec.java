package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.OnDevice;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.Scopes;
import java.util.Map;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorArrayRef;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.TensorVector;
import org.bytedeco.pytorch.global.torch;

/**
 * S3Gen's {@code flow} module: speech-token embedding, the upsampling conformer encoder, the encoder projection to
 * 80 mel bins, the speaker x-vector projection, and the mean-flow CFM decoder. Inference concatenates the prompt
 * tokens before the generated ones, conditions the decoder on the prompt mel over the first frames, and returns
 * the mel of the generated part only.
 */
final class CausalMaskedDiffWithXvec {
    final Tensor input_embedding;
    final Linear spk_embed_affine_layer;
    final UpsampleConformerEncoder encoder;
    final Linear encoder_proj;
    /** key {@code decoder} (its {@code estimator} holds the weights) */
    final CausalConditionalCFM decoder;
    private final S3GenConfig config;

    CausalMaskedDiffWithXvec(ParamSource p, S3GenConfig c) {
        this.config = c;
        this.input_embedding = p.sub("input_embedding").take("weight", c.vocabSize(), c.inputSize());
        this.spk_embed_affine_layer = new Linear(p.sub("spk_embed_affine_layer"), c.spkEmbedDim(), c.melBins(), true);
        this.encoder = new UpsampleConformerEncoder(p.sub("encoder"), c);
        this.encoder_proj = new Linear(p.sub("encoder_proj"), c.dModel(), c.melBins(), true);
        this.decoder = new CausalConditionalCFM(p.sub("decoder"), c);
    }

    torch.ScalarType dtype() {
        return input_embedding.scalar_type();
    }

    /**
     * @param tokens     (1, N) int64 generated speech tokens (ids &lt; vocab)
     * @param promptTok  (1, P) int64 prompt tokens
     * @param promptFeat (1, M1, 80) prompt mel frames
     * @param embedding  (1, 192) speaker x-vector
     * @param z          (1, 80, T) starting noise, T = stride * (P + N), covering the prompt frames too
     * @param steps      the solver's Euler steps
     * @return (1, 80, T - M1) float32 mel
     */
    Tensor inference(Tensor tokens, Tensor promptTok, Tensor promptFeat, Tensor embedding, Tensor z, int steps,
            FlowTrace trace) {
        return Scopes.run(() -> {
            torch.ScalarType dt = dtype();
            Tensor allTok = torch.cat(new TensorArrayRef(new TensorVector(
                    promptTok.to(torch.ScalarType.Long), tokens.to(torch.ScalarType.Long))), 1);
            long total = allTok.size(1);
            long minId = allTok.min().item_long();
            long maxId = allTok.max().item_long();
            if (minId < 0 || maxId >= config.vocabSize()) {
                throw new IllegalArgumentException("speech token out of range [0, " + config.vocabSize() + "): "
                        + (minId < 0 ? minId : maxId) + " (drop special tokens before S3Gen)");
            }
            long frames = total * config.upsampleStride();
            long m1 = promptFeat.size(1);
            if (z.dim() != 3 || z.size(0) != 1 || z.size(1) != config.melBins() || z.size(2) != frames) {
                throw new IllegalArgumentException("noise z must be (1, " + config.melBins() + ", " + frames + ") for "
                        + total + " tokens, got " + java.util.Arrays.toString(z.sizes().vec().get()));
            }
            if (m1 > frames) {
                throw new IllegalArgumentException("prompt mel (" + m1 + " frames) longer than the sequence (" + frames + ")");
            }
            // speaker: L2-normalise (eps 1e-12) then project to 80
            Tensor emb = embedding.to(torch.ScalarType.Float).reshape(1, -1);
            Tensor norm = emb.norm(new org.bytedeco.pytorch.ScalarOptional(new Scalar(2.0)), new long[] {1}, true)
                    .clamp_min(new Scalar(1e-12));
            Tensor spks = spk_embed_affine_layer.forward(emb.div(norm).to(dt)); // (1, 80)

            Tensor x = torch.embedding(input_embedding, allTok); // (1, L, D)
            Tensor h = encoder.forward(x); // (1, 2L, D)
            Tensor muBt = encoder_proj.forward(h); // (1, T, 80)
            trace.mu(muBt);
            Tensor mu = muBt.transpose(1, 2).contiguous();

            Tensor cond = OnDevice.of(torch.zeros(new long[] {1, frames, config.melBins()}, new TensorOptions(dt)), mu);
            cond.narrow(1, 0, m1).copy_(promptFeat.to(dt));
            cond = cond.transpose(1, 2).contiguous();

            Tensor feat = decoder.forward(z.to(dt), mu, spks, cond, steps, trace);
            return feat.narrow(2, m1, frames - m1).to(torch.ScalarType.Float).contiguous();
        });
    }

    static void shapes(Map<String, long[]> m, String prefix, S3GenConfig c) {
        ConditionalDecoder.shapes(m, prefix + ".decoder.estimator", c);
        UpsampleConformerEncoder.shapes(m, prefix + ".encoder", c);
        Linear.shapes(m, prefix + ".encoder_proj", c.dModel(), c.melBins(), true);
        m.put(prefix + ".input_embedding.weight", new long[] {c.vocabSize(), c.inputSize()});
        Linear.shapes(m, prefix + ".spk_embed_affine_layer", c.spkEmbedDim(), c.melBins(), true);
    }
}
