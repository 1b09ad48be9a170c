package dev.localai.tts.core.model.s3gen;

import dev.localai.tts.core.checkpoint.CheckpointException;
import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.nn.ParamSource;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.nn.Scopes;
import dev.localai.tts.core.nn.Weights;
import dev.localai.tts.core.runtime.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;

/**
 * The flow half of S3Gen, speech tokens -> 80-bin mel at 50 Hz, exactly as Chatterbox Turbo runs it: the prompt
 * (reference) tokens are prepended, the conformer encoder gives mu, the mean-flow decoder takes two Euler steps
 * (t = 0 -> 0.5 -> 1, no CFG, no cosine warp) from the noise {@code z}, and the prompt frames are cut off the result.
 *
 * <p>Weights come from the {@code flow.*} keys of {@code s3gen_meanflow.safetensors}. Noise is an explicit input so
 * runs are reproducible; {@link #noise} makes one from a seed. Single utterance (batch 1). Not thread-safe for
 * concurrent {@link #inference} calls on one instance only in the sense that LibTorch parallelises each call itself;
 * the module holds no mutable state.
 */
public final class S3GenFlow implements AutoCloseable {
    /** File name of the S3Gen checkpoint in an official model directory. */
    public static final String CHECKPOINT = "s3gen_meanflow.safetensors";

    private final S3GenConfig config;
    private final CausalMaskedDiffWithXvec flow;
    private final Weights weights;

    private S3GenFlow(S3GenConfig config, CausalMaskedDiffWithXvec flow, Weights weights) {
        this.config = config;
        this.flow = flow;
        this.weights = weights;
    }

    /** Builds the flow from a root view of the S3Gen checkpoint (keys {@code flow.*}; other prefixes untouched). */
    public static S3GenFlow load(StateDict root, S3GenConfig config) {
        return build(ParamSource.of(root.sub("flow")), config);
    }

    /**
     * {@link #load(StateDict, S3GenConfig)} with the weights converted to {@code dtype} ({@code Float} keeps the
     * checkpoint's fp32). Inputs may stay fp32 (they are cast); the mel comes back in fp32 either way.
     */
    public static S3GenFlow load(StateDict root, S3GenConfig config, torch.ScalarType dtype) {
        ParamSource src = ParamSource.of(root.sub("flow"));
        return build(dtype.value == torch.ScalarType.Float.value ? src : src.converted(dtype), config);
    }

    /** The weight type the flow computes in. */
    public torch.ScalarType dtype() {
        return flow.dtype();
    }

    /** Opens {@code modelDir/s3gen_meanflow.safetensors}, infers the sizes from it and loads the flow (fp32). */
    public static S3GenFlow load(Path modelDir, Device device) {
        Path file = Files.isDirectory(modelDir) ? modelDir.resolve(CHECKPOINT) : modelDir;
        try (StateDict root = StateDict.open(file, device)) {
            return load(root, inferConfig(root));
        }
    }

    /** Random weights at the given sizes (for benchmarks), in {@code dtype}. */
    public static S3GenFlow random(S3GenConfig config, long seed, torch.ScalarType dtype) {
        ParamSource src = new RandomParams(seed).sub("flow");
        return build(dtype == torch.ScalarType.Float ? src : src.converted(dtype), config);
    }

    private static S3GenFlow build(ParamSource src, S3GenConfig config) {
        Weights weights = new Weights();
        try {
            return new S3GenFlow(config, new CausalMaskedDiffWithXvec(weights.track(src), config), weights);
        } catch (RuntimeException e) {
            weights.close();
            throw e;
        }
    }

    public S3GenConfig config() {
        return config;
    }

    /** Mel frames of the whole sequence (prompt + generated) for the given token counts: stride * (P + N). */
    public long frames(long promptTokens, long tokens) {
        return (promptTokens + tokens) * config.upsampleStride();
    }

    /**
     * Speech tokens to mel.
     *
     * @param speechTokens (N) or (1, N) int64, all &lt; 6561 (drop special tokens first)
     * @param promptTokens (1, P) int64 reference tokens
     * @param promptFeat   (1, M1, 80) reference mel (24 kHz, 50 Hz frames)
     * @param embedding    (1, 192) CAMPPlus x-vector
     * @param z            (1, 80, 2(P+N)) starting noise over all frames (see {@link #noise})
     * @return (1, 80, 2(P+N) - M1) float32 mel; the caller owns it (or the enclosing PointerScope does)
     */
    public Tensor inference(Tensor speechTokens, Tensor promptTokens, Tensor promptFeat, Tensor embedding, Tensor z) {
        return inference(speechTokens, promptTokens, promptFeat, embedding, z, FlowTrace.NONE);
    }

    /** {@link #inference} reporting intermediates to {@code trace}. */
    public Tensor inference(Tensor speechTokens, Tensor promptTokens, Tensor promptFeat, Tensor embedding, Tensor z,
            FlowTrace trace) {
        return inference(speechTokens, promptTokens, promptFeat, embedding, z, config.nTimesteps(), trace);
    }

    /**
     * {@link #inference} with {@code steps} Euler steps of the mean-flow solver instead of the configured ones
     * (upstream's {@code n_cfm_timesteps}: {@code S3Token2Wav.inference} takes it, and Turbo's pipeline passes 2; the
     * mean-flow decoder was distilled to run in one). Throws {@link IllegalArgumentException} for fewer than 1.
     */
    public Tensor inference(Tensor speechTokens, Tensor promptTokens, Tensor promptFeat, Tensor embedding, Tensor z,
            int steps, FlowTrace trace) {
        if (steps < 1) {
            throw new IllegalArgumentException("solver steps must be >= 1, got " + steps);
        }
        Tensor tok = speechTokens.dim() == 1 ? speechTokens.unsqueeze(0) : speechTokens;
        Tensor ptok = promptTokens.dim() == 1 ? promptTokens.unsqueeze(0) : promptTokens;
        Tensor pfeat = promptFeat.dim() == 2 ? promptFeat.unsqueeze(0) : promptFeat;
        return flow.inference(tok, ptok, pfeat, embedding, z, steps, trace);
    }

    /**
     * Seeded starting noise of shape (1, 80, 2(P+N)), drawn in upstream's order from a fresh CPU generator: first the
     * generated part (1, 80, 2N) ("noised_mels"), then a full-length draw whose prompt frames are kept.
     */
    public Tensor noise(long promptTokens, long tokens, long seed) {
        return Scopes.run(() -> {
            Generator g = torch.createCPUGenerator(seed);
            TensorOptions f32 = new TensorOptions(torch.ScalarType.Float);
            long gen = tokens * config.upsampleStride();
            long all = frames(promptTokens, tokens);
            Tensor noised = torch.randn(new long[] {1, config.melBins(), gen}, new GeneratorOptional(g), f32);
            Tensor z = torch.randn(new long[] {1, config.melBins(), all}, new GeneratorOptional(g), f32);
            z.narrow(2, all - gen, gen).copy_(noised);
            return z;
        });
    }

    /** Frees the weights. */
    @Override
    public void close() {
        weights.close();
    }

    /**
     * Every {@code flow.*} key and shape of the official S3Gen checkpoint for these sizes (sorted by key). The file's
     * other prefixes ({@code mel2wav.}, {@code speaker_encoder.}, {@code tokenizer.}) belong to other modules.
     */
    public static LinkedHashMap<String, long[]> stateDictShapes(S3GenConfig config) {
        Map<String, long[]> m = new TreeMap<>();
        CausalMaskedDiffWithXvec.shapes(m, "flow", config);
        return new LinkedHashMap<>(m);
    }

    /**
     * Multiply-adds of one flow inference over {@code tokens} speech tokens (prompt and generated together; {@code
     * upsampleStride} mel frames each): every weight matrix once per row it runs over (the encoder's first layers
     * per token, its upsampled layers per frame, the estimator per frame and solver step, the relative-position
     * projection over the 2n - 1 relative positions), plus the attention's score and value products (the encoder's
     * position terms one per score, as upstream's rel_shift keeps them). Per-step
     * single-row products (the time embeddings of t and r, each resnet's time projection) count once per step;
     * element-wise work and norms are not counted. {@code tts bench engine} puts the first streamed block's flow
     * against it, and the engine's stream pacer predicts the flow's time by it. Throws on a state-dict key it does
     * not know, so a new architecture is not silently miscounted.
     */
    public static double multiplyAdds(S3GenConfig c, int tokens) {
        long t = tokens;
        long f = (long) c.upsampleStride() * tokens;
        long steps = c.nTimesteps();
        double total = 0;
        for (Map.Entry<String, long[]> e : stateDictShapes(c).entrySet()) {
            String k = e.getKey();
            long[] shape = e.getValue();
            if (shape.length < 2 || !k.endsWith(".weight") || k.equals("flow.input_embedding.weight")) {
                continue; // biases, norms, the relative-position biases, the embedding lookup
            }
            double perRow = java.util.Arrays.stream(shape).asDoubleStream().reduce(1, (a, b) -> a * b);
            total += perRow * rows(k, t, f, steps, c.meanflow());
        }
        long d = c.dModel();
        // matrix_ac (n x n), matrix_bd and the value product, per encoder layer, over its width; of matrix_bd's
        // n x (2n - 1) position terms upstream's rel_shift keeps n x n (one per score), and only those are counted:
        // the relative-attention kernel computes n x (n + 15), LibTorch's path all 2n - 1 columns
        total += c.numBlocks() * (double) d * 3.0 * t * t;
        total += c.numUpBlocks() * (double) d * 3.0 * f * f;
        // q k^T and p v in every estimator transformer block, every solver step
        long blocks = (long) c.nBlocks() * (c.numMidBlocks() + 2);
        total += steps * blocks * 2.0 * f * f * c.estimatorInnerDim();
        return total;
    }

    private static double rows(String key, long tokens, long frames, long steps, boolean meanflow) {
        String k = key.substring("flow.".length());
        if (k.startsWith("decoder.estimator.")) {
            if (k.contains(".time_mlp.")) {
                return meanflow ? 2.0 * steps : steps; // t and r through the shared time MLP (t only without)
            }
            boolean perStep = k.contains(".time_embed_mixer.") || k.contains(".mlp.1.");
            return perStep ? steps : (double) steps * frames;
        }
        if (k.startsWith("encoder.up_encoders.")) {
            return k.contains(".linear_pos.") ? 2 * frames - 1 : frames;
        }
        if (k.startsWith("encoder.encoders.")) {
            return k.contains(".linear_pos.") ? 2 * tokens - 1 : tokens;
        }
        if (k.startsWith("encoder.embed.") || k.startsWith("encoder.pre_lookahead_layer.")) {
            return tokens;
        }
        if (k.startsWith("encoder.up_layer.") || k.startsWith("encoder.up_embed.") || k.startsWith("encoder_proj.")) {
            return frames;
        }
        if (k.startsWith("spk_embed_affine_layer.")) {
            return 1;
        }
        throw new IllegalArgumentException("unknown flow weight, cannot count its products: " + key);
    }

    /**
     * The count's growth with the sequence (pure arithmetic): {@link #multiplyAdds} is a quadratic in the tokens
     * (the attention's score and value products grow with the square of the length, everything else with the
     * length), and this is its square term over its linear one, so the count is in proportion to {@code L + q L^2}
     * up to a constant below one token's worth (the single-row time products). About 0.0015 for Turbo: at the 272
     * tokens of a first streamed block the square term is 40% of the linear one, at 1250 tokens (a 40 s chunk with a
     * 10 s voice prompt) nearly twice it.
     */
    public static double multiplyAddsQuadratic(S3GenConfig c) {
        return QUADRATIC.computeIfAbsent(c, k -> {
            double m0 = multiplyAdds(k, 0);
            double m1 = multiplyAdds(k, 1);
            double m2 = multiplyAdds(k, 2);
            double linear = (4 * m1 - m2 - 3 * m0) / 2;
            double square = (m2 - 2 * m1 + m0) / 2;
            return linear > 0 ? Math.max(0, square / linear) : 0;
        });
    }

    private static final java.util.concurrent.ConcurrentHashMap<S3GenConfig, Double> QUADRATIC =
            new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * The sizes of the checkpoint's {@code flow.*} tensors: widths, layer counts and heads of the encoder come from the
     * tensors ({@code pos_bias_u} gives the heads); the estimator is assumed to use as many heads as the encoder, true
     * of both the official and the tiny profile.
     */
    public static S3GenConfig inferConfig(StateDict root) {
        StateDict f = root.sub("flow");
        if (!f.has("input_embedding.weight")) {
            throw new CheckpointException("no flow.* tensors in " + root.file().path());
        }
        long[] emb = f.shape("input_embedding.weight");
        long[] embed = f.shape("encoder.embed.out.0.weight");
        long[] pbu = f.shape("encoder.encoders.0.self_attn.pos_bias_u");
        long[] w1 = f.shape("encoder.encoders.0.feed_forward.w_1.weight");
        int numBlocks = count(f, "encoder.encoders.%d.norm_ff.weight");
        int numUp = count(f, "encoder.up_encoders.%d.norm_ff.weight");
        long[] la = f.shape("encoder.pre_lookahead_layer.conv1.weight");
        long[] up = f.shape("encoder.up_layer.conv.weight");
        long[] proj = f.shape("encoder_proj.weight");
        long[] spk = f.shape("spk_embed_affine_layer.weight");
        StateDict est = f.sub("decoder.estimator");
        long[] l1 = est.shape("time_mlp.linear_1.weight");
        long[] r1 = est.shape("down_blocks.0.0.block1.block.0.weight");
        long[] q = est.shape("down_blocks.0.1.0.attn1.to_q.weight");
        int nBlocks = count(est, "down_blocks.0.1.%d.norm1.weight");
        int mid = count(est, "mid_blocks.%d.0.res_conv.weight");
        int heads = (int) pbu[0];
        if (q[0] % heads != 0) {
            throw new CheckpointException("cannot infer estimator heads from " + java.util.Arrays.toString(q));
        }
        return new S3GenConfig((int) emb[0], (int) embed[1], (int) embed[0], heads, (int) w1[0], numBlocks, numUp,
                (int) la[2] - 1, (int) (up[2] - 1) / 2, (int) proj[0], (int) spk[1], (int) l1[1], (int) r1[0],
                nBlocks, mid, heads, (int) (q[0] / heads), est.has("time_embed_mixer.weight"), 2, false);
    }

    private static int count(StateDict sd, String pattern) {
        int n = 0;
        while (sd.has(String.format(pattern, n))) {
            n++;
        }
        return n;
    }
}
