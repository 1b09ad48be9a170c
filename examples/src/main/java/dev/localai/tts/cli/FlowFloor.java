package dev.localai.tts.cli;

import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.nn.Weights;
import java.util.Arrays;
import java.util.Map;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The first streamed block's S3Gen flow against its arithmetic floor, the way {@code t3_over_floor} puts T3's decode
 * step against its memory floor. The flow runs over the voice prompt and the first flush's tokens at once
 * (bidirectional attention: nothing of it is reusable between blocks), about half of a streamed request's first
 * audio, and at those sizes its products are compute-bound, not bandwidth-bound: so its floor is its multiply-adds
 * ({@link #multiplyAdds}, counted from the state-dict shapes) over the rate the engine's own product kernel reaches
 * at the flow's shapes and weight type on this machine ({@link #productGflops}), measured in the same run.
 *
 * <p>Benchmark code: it prints figures and asserts nothing. The flow runs with random weights at the given sizes
 * (a product's speed does not depend on its values) and with the kernels the engine set process-wide (oneDNN or
 * OpenBLAS for fp32 products, packed bf16 weights, the convolution layout, the attention kernels).
 */
final class FlowFloor {
    private FlowFloor() {
    }

    /**
     * Multiply-adds of one flow inference over {@code tokens} speech tokens (prompt and generated together; {@code
     * upsampleStride} mel frames each): every weight matrix once per row it runs over (the encoder's first layers
     * per token, its upsampled layers per frame, the estimator per frame and solver step, the relative-position
     * projection over the 2n - 1 relative positions), plus the attention's score and value products. Per-step
     * single-row products (the time embeddings of t and r, each resnet's time projection) count once per step;
     * element-wise work and norms are not counted. Throws on a state-dict key it does not know, so a new architecture
     * is not silently miscounted.
     */
    static double multiplyAdds(S3GenConfig c, int tokens) {
        long t = tokens;
        long f = (long) c.upsampleStride() * tokens;
        long steps = c.nTimesteps();
        double total = 0;
        for (Map.Entry<String, long[]> e : S3GenFlow.stateDictShapes(c).entrySet()) {
            String k = e.getKey();
            long[] shape = e.getValue();
            if (shape.length < 2 || !k.endsWith(".weight") || k.equals("flow.input_embedding.weight")) {
                continue; // biases, norms, the relative-position biases, the embedding lookup
            }
            double perRow = Arrays.stream(shape).asDoubleStream().reduce(1, (a, b) -> a * b);
            total += perRow * rows(k, t, f, steps, c.meanflow());
        }
        long d = c.dModel();
        // matrix_ac (n x n), matrix_bd (n x (2n - 1)) and the value product, per encoder layer, over its width
        total += c.numBlocks() * (double) d * (2.0 * t * t + t * (2.0 * t - 1));
        total += c.numUpBlocks() * (double) d * (2.0 * f * f + f * (2.0 * f - 1));
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
     * GFLOP/s (two per multiply-add) of the flow's products in {@code dtype} on the engine's kernels: one {@link
     * Linear} of each shape the flow multiplies by over {@code rows} rows (the estimator's stacked q|k|v, attention
     * output, feed-forward and causal-convolution products, the encoder's square, feed-forward up and down ones),
     * the set run 8 times per round, the best of 7 rounds after a warm-up.
     */
    static double productGflops(S3GenConfig c, ScalarType dtype, long rows) {
        long ch = c.channels();
        long inner = c.estimatorInnerDim();
        long d = c.dModel();
        long[][] shapes = {{ch, 3 * inner}, {inner, ch}, {ch, 4 * ch}, {4 * ch, ch}, {3 * ch, ch}, {d, d},
            {d, c.linearUnits()}, {c.linearUnits(), d}};
        try (Weights w = new Weights(); PointerScope scope = new PointerScope()) {
            var src = w.track(new RandomParams(11).converted(dtype)); // fp32 weights stay as they are
            Linear[] layers = new Linear[shapes.length];
            Tensor[] xs = new Tensor[shapes.length];
            double macs = 0;
            for (int i = 0; i < shapes.length; i++) {
                layers[i] = new Linear(src.sub("l" + i), shapes[i][0], shapes[i][1], true);
                xs[i] = torch.randn(rows, shapes[i][0]).to(dtype);
                macs += (double) rows * shapes[i][0] * shapes[i][1];
            }
            int perRound = 8;
            double best = Double.POSITIVE_INFINITY;
            for (int round = -1; round < 7; round++) {
                long t0 = System.nanoTime();
                for (int r = 0; r < perRound; r++) {
                    for (int i = 0; i < layers.length; i++) {
                        try (PointerScope it = new PointerScope()) {
                            layers[i].forward(xs[i]);
                        }
                    }
                }
                double s = (System.nanoTime() - t0) / 1e9;
                if (round >= 0) {
                    best = Math.min(best, s);
                }
            }
            return 2 * macs * perRound / best / 1e9;
        }
    }

    /**
     * Median ms of the flow over {@code promptTokens} prompt tokens (and their mel frames) and {@code tokens} new
     * ones, {@code repeats} runs after one warm-up, in {@code dtype} (the attention in fp32 if asked), random weights.
     */
    static double flowMs(S3GenConfig c, ScalarType dtype, int promptTokens, int tokens, int repeats) {
        try (S3GenFlow flow = S3GenFlow.random(c, 5, dtype); PointerScope scope = new PointerScope()) {
            S3GenBench.FlowInputs in = S3GenBench.FlowInputs.random(flow, promptTokens, tokens, 5);
            double[] ms = new double[repeats];
            for (int i = -1; i < repeats; i++) {
                try (PointerScope it = new PointerScope()) {
                    long t0 = System.nanoTime();
                    in.run(flow);
                    if (i >= 0) {
                        ms[i] = (System.nanoTime() - t0) / 1e6;
                    }
                }
            }
            return EngineBenchmark.median(ms);
        }
    }
}
