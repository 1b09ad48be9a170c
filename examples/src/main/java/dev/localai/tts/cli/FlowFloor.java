package dev.localai.tts.cli;

import dev.localai.tts.core.model.s3gen.S3GenConfig;
import dev.localai.tts.core.model.s3gen.S3GenFlow;
import dev.localai.tts.core.nn.Linear;
import dev.localai.tts.core.nn.RandomParams;
import dev.localai.tts.core.nn.Weights;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The first streamed block's S3Gen flow against its arithmetic floor, the way {@code t3_over_floor} puts T3's decode
 * step against its memory floor. The flow runs over the voice prompt and the first flush's tokens at once
 * (bidirectional attention: nothing of it is reusable between blocks), about half of a streamed request's first
 * audio, and at those sizes its products are compute-bound, not bandwidth-bound: so its floor is its multiply-adds
 * ({@code S3GenFlow.multiplyAdds}, counted from the state-dict shapes) over the rate the engine's own product kernel
 * reaches at the flow's shapes and weight type on this machine ({@link #productGflops}), measured in the same run.
 *
 * <p>Benchmark code: it prints figures and asserts nothing. The flow runs with random weights at the given sizes
 * (a product's speed does not depend on its values) and with the kernels the engine set process-wide (oneDNN or
 * OpenBLAS for fp32 products, packed bf16 weights, the convolution layout, the attention kernels).
 */
final class FlowFloor {
    private FlowFloor() {
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
