package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.localai.tts.core.runtime.Torch;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The rule that shortens a streamed first block's voice prompt, on made-up costs (no dependence on this machine). */
class FirstBlockPromptTest {
    /** A flow's quadratic term (S3GenFlow.multiplyAddsQuadratic gives the model's); the rule holds for any q >= 0. */
    private static final double Q = 7e-4;
    private static final int PROMPT = 250;
    private static final int FLUSH = 22;
    private static final int MIN = FirstBlockPrompt.MIN_PROMPT_TOKENS;

    @BeforeAll
    static void libtorch() {
        Torch.load();
    }

    private static double flow(double msPerWork, int prompt) {
        return msPerWork * StreamPacer.work(Q, prompt + FLUSH);
    }

    /** First audio as the rule predicts it: with its caution. */
    private static double predicted(double other, double msPerWork, int prompt) {
        return FirstBlockPrompt.CAUTION * (other + flow(msPerWork, prompt));
    }

    @Test
    void theWholePromptUntilSomethingIsMeasuredWhenTheTargetIsOffOrThePromptIsShortAlready() {
        assertThat(FirstBlockPrompt.plan(1000, Double.NaN, Double.NaN, Q, PROMPT, FLUSH, MIN)).isEqualTo(PROMPT);
        assertThat(FirstBlockPrompt.plan(0, 5000, 10, Q, PROMPT, FLUSH, MIN)).as("target 0: off").isEqualTo(PROMPT);
        assertThat(FirstBlockPrompt.plan(1000, 5000, 10, Q, MIN, FLUSH, MIN)).as("a 5 s prompt").isEqualTo(MIN);
        assertThat(FirstBlockPrompt.plan(1000, 5000, 10, Q, 60, FLUSH, MIN)).as("a prompt under 5 s").isEqualTo(60);
        assertThat(new FirstBlockPrompt(1000, Q).promptTokens(PROMPT, FLUSH)).isEqualTo(PROMPT);
    }

    @Test
    void aMachineThatMakesTheTargetKeepsTheWholePrompt() {
        double perWork = 1.5; // the flow over 272 tokens: about 480 ms
        double other = 1000 / FirstBlockPrompt.CAUTION - flow(perWork, PROMPT); // predicted exactly on target
        assertThat(FirstBlockPrompt.plan(1000, other, perWork, Q, PROMPT, FLUSH, MIN)).isEqualTo(PROMPT);
        assertThat(FirstBlockPrompt.plan(1000, other - 300, perWork, Q, PROMPT, FLUSH, MIN)).isEqualTo(PROMPT);
        // measured at 95% of the target: the caution takes a little off
        assertThat(FirstBlockPrompt.plan(1000, 950 - flow(perWork, PROMPT), perWork, Q, PROMPT, FLUSH, MIN))
                .isLessThan(PROMPT);
    }

    @Test
    void aSlowerOneGetsTheLongestPromptPredictedWithinTheTarget() {
        double perWork = 3.0; // a slower CPU: the flow about 1 s over 272 tokens
        double other = 350;
        int p = FirstBlockPrompt.plan(1000, other, perWork, Q, PROMPT, FLUSH, MIN);
        assertThat(p).isBetween(MIN + 1, PROMPT - 1);
        assertThat(predicted(other, perWork, p)).isLessThanOrEqualTo(1000);
        assertThat(predicted(other, perWork, p + 1)).as("one token more misses").isGreaterThan(1000);
    }

    @Test
    void oneThatMissesEvenWithFiveSecondsGetsFiveSeconds() {
        assertThat(FirstBlockPrompt.plan(1000, 600, 8.0, Q, PROMPT, FLUSH, MIN)).isEqualTo(MIN);
        assertThat(FirstBlockPrompt.plan(1000, 1500, 1.0, Q, PROMPT, FLUSH, MIN)).as("T3 alone past the target")
                .isEqualTo(MIN);
    }

    @Test
    void measurementsDecideAndTheChoiceComesBackWhenTheMachineIsFaster() {
        FirstBlockPrompt f = new FirstBlockPrompt(1000, Q);
        assertThat(f.lastPromptTokens()).isEqualTo(-1);
        // a slow first block: 2200 ms to first audio, 1800 of it the flow over the whole prompt
        f.measured(2200, 1800, PROMPT + FLUSH, PROMPT);
        assertThat(f.lastPromptTokens()).isEqualTo(PROMPT);
        int shortened = f.promptTokens(PROMPT, FLUSH);
        assertThat(shortened).isEqualTo(MIN);
        // then fast ones (a quiet spell): the running estimates come back under the target with the whole prompt
        for (int i = 0; i < 8; i++) {
            f.measured(500, 300, shortened + FLUSH, shortened);
        }
        assertThat(f.lastPromptTokens()).isEqualTo(MIN);
        assertThat(f.promptTokens(PROMPT, FLUSH)).isEqualTo(PROMPT);
    }

    @Test
    void impossibleMeasurementsAreIgnored() {
        FirstBlockPrompt f = new FirstBlockPrompt(1000, Q);
        f.measured(500, 800, PROMPT + FLUSH, PROMPT); // a flow longer than the wait it is part of
        f.measured(Double.NaN, 100, PROMPT + FLUSH, PROMPT);
        f.measured(2000, Double.NaN, PROMPT + FLUSH, PROMPT);
        f.measured(2000, 1500, 0, PROMPT);
        assertThat(f.lastPromptTokens()).isEqualTo(-1);
        assertThat(f.promptTokens(PROMPT, FLUSH)).isEqualTo(PROMPT);
    }

    /**
     * The prompt's last part keeps each token with its own mel frames (token i: frames 2i and 2i + 1) and the noise
     * of those frames: tokens numbered 0..P-1 and frames holding their frame number say which ones were taken.
     */
    @Test
    void thePromptsLastPartKeepsTokensFramesAndNoiseAligned() {
        int prompt = 200;
        int stride = 2;
        try (PointerScope scope = new PointerScope()) {
            Tensor tokens = torch.arange(new Scalar(prompt)).reshape(1, prompt);
            Tensor frames = torch.arange(new Scalar(stride * prompt)).to(torch.ScalarType.Float)
                    .reshape(1, stride * prompt, 1).expand(1, stride * prompt, 80).contiguous();
            FirstBlockPrompt.Part part = FirstBlockPrompt.Part.last(tokens, frames, MIN, stride);
            assertThat(part.used()).isEqualTo(MIN);
            assertThat(part.tokens().size(1)).isEqualTo(MIN);
            assertThat(part.tokens().select(1, 0).item_long()).isEqualTo(prompt - MIN);
            assertThat(part.tokens().select(1, MIN - 1).item_long()).isEqualTo(prompt - 1);
            assertThat(part.feat().size(1)).isEqualTo((long) stride * MIN);
            assertThat(part.feat().select(1, 0).select(1, 79).item_float()).isEqualTo(stride * (prompt - MIN));
            assertThat(part.feat().select(1, stride * MIN - 1).select(1, 0).item_float())
                    .isEqualTo(stride * prompt - 1);
            assertThat(part.noiseFrom()).as("the noise of the kept frames").isEqualTo((long) stride * (prompt - MIN));

            FirstBlockPrompt.Part whole = FirstBlockPrompt.Part.last(tokens, frames, prompt, stride);
            assertThat(whole.used()).isEqualTo(prompt);
            assertThat(whole.noiseFrom()).isZero();
            assertThat(whole.tokens().size(1)).isEqualTo(prompt);
            // a voice whose mel is shorter than its tokens' frames is never cut (the whole, said by used)
            FirstBlockPrompt.Part odd = FirstBlockPrompt.Part.last(tokens, frames.narrow(1, 0, stride * prompt - 1),
                    MIN, stride);
            assertThat(odd.used()).isEqualTo(prompt);
            assertThat(odd.noiseFrom()).isZero();
            assertThatThrownBy(() -> FirstBlockPrompt.Part.last(tokens, frames, prompt + 1, stride))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aNegativeTargetIsRefused() {
        assertThatThrownBy(() -> new FirstBlockPrompt(-1, Q)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TtsEngine.builder().firstAudioTarget(java.time.Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("firstAudioTarget");
    }
}
