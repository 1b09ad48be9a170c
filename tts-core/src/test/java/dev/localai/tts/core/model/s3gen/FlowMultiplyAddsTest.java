package dev.localai.tts.core.model.s3gen;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * The flow's multiply-add count behind {@code tts bench engine}'s {@code flow_floor_ms} and the stream pacer's
 * prediction of the flow's time (no timing is tested).
 */
class FlowMultiplyAddsTest {
    /**
     * The count from the state-dict shapes against one written out module by module from the Turbo architecture
     * (research/chatterbox-turbo-spec.md, section 4): a missed or double-counted layer in either shows here.
     */
    @Test
    void turboCountEqualsAModuleByModuleCount() {
        S3GenConfig c = S3GenConfig.turbo();
        for (int tokens : new int[] {1, 30, 272, 503}) {
            assertThat(S3GenFlow.multiplyAdds(c, tokens)).as("%d tokens", tokens)
                    .isCloseTo(byHand(tokens), within(1e-9 * byHand(tokens)));
        }
    }

    private static double byHand(int tokens) {
        double t = tokens;
        double f = 2.0 * tokens; // the encoder upsamples tokens to mel frames 2x
        double d = 512;
        double ff = 2048;
        // a conformer layer over n rows: q, k, v, out and the feed-forward per row, the relative-position projection
        // over 2n - 1 positions, scores with content (n x n) and position terms (the n x n that rel_shift keeps of
        // n x (2n - 1)), and the value product
        java.util.function.DoubleUnaryOperator conformer = n -> n * (4 * d * d + 2 * d * ff) + (2 * n - 1) * d * d
                + d * (n * n + n * n + n * n);
        double encoder = t * d * d // embed
                + t * d * d * (4 + 3) // pre-lookahead convolutions, kernels 4 and 3
                + 6 * conformer.applyAsDouble(t)
                + f * d * d * 5 // the upsampler's kernel-5 convolution
                + f * d * d // up_embed
                + 4 * conformer.applyAsDouble(f)
                + f * d * 80 // encoder_proj
                + 192 * 80; // the speaker projection, once
        double ch = 256;
        double inner = 512;
        double te = 1024; // time-embedding width
        // one transformer block: q, k, v, out, the feed-forward (4x), and q k^T and p v over all frames
        double block = f * (3 * ch * inner + inner * ch + 2 * ch * 4 * ch) + 2 * f * f * inner;
        // a resnet from cin channels: two kernel-3 causal convolutions, the 1x1 residual, the time projection once
        java.util.function.DoubleUnaryOperator resnet = cin -> f * (ch * cin * 3 + ch * ch * 3 + ch * cin) + te * ch;
        double step = 2 * (320 * te + te * te) + 2 * te * te // time MLP for t and r, the mean-flow mixer, once
                + resnet.applyAsDouble(320) + 4 * block + f * ch * ch * 3 // down level with its causal convolution
                + 12 * (resnet.applyAsDouble(ch) + 4 * block) // mid levels
                + resnet.applyAsDouble(2 * ch) + 4 * block + f * ch * ch * 3 // up level (skip concatenated)
                + f * ch * ch * 3 + f * 80 * ch; // final block and projection
        return encoder + 2 * step; // two solver steps
    }

    @Test
    void eachSolverStepAddsOneEstimatorPassAndAttentionGrowsQuadratically() {
        S3GenConfig c = S3GenConfig.turbo();
        double one = S3GenFlow.multiplyAdds(c.withTimesteps(1), 272);
        double two = S3GenFlow.multiplyAdds(c, 272);
        double three = S3GenFlow.multiplyAdds(c.withTimesteps(3), 272);
        assertThat(three - two).isCloseTo(two - one, within(1e-6 * two));
        // at 544 frames the two estimator passes are most of the flow (2 x 106 of 249 GFLOP)
        assertThat(2 * (two - one) / two).isBetween(0.8, 0.9);
        // doubling the length more than doubles the count (the attention), but less than quadruples it
        double twice = S3GenFlow.multiplyAdds(c, 544);
        assertThat(twice / two).isBetween(2.1, 3.0);
    }

    @Test
    void theCountIsInProportionToTheLengthPlusItsSquareTimesTheQuadraticTerm() {
        for (S3GenConfig c : new S3GenConfig[] {S3GenConfig.turbo(), S3GenConfig.tiny()}) {
            double q = S3GenFlow.multiplyAddsQuadratic(c);
            assertThat(q).isPositive();
            double constant = S3GenFlow.multiplyAdds(c, 0);
            double k = (S3GenFlow.multiplyAdds(c, 1) - constant) / (1 + q);
            for (int tokens : new int[] {3, 272, 503, 1250, 4346}) {
                assertThat(S3GenFlow.multiplyAdds(c, tokens) - constant).as("%d tokens", tokens)
                        .isCloseTo(k * (tokens + q * (double) tokens * tokens), within(1e-9 * k * tokens * tokens));
            }
            assertThat(Math.abs(constant)).as("less than one token's worth").isLessThan(k);
        }
        // Turbo: at a first block's 272 tokens the square term is about 40% of the linear one
        double q = S3GenFlow.multiplyAddsQuadratic(S3GenConfig.turbo());
        assertThat(q * 272).isBetween(0.3, 0.5);
    }
}
