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

/**
 * The rule that makes a streamed first block cheaper (a shorter voice prompt, then one flow step), on made-up costs
 * (no dependence on this machine).
 */
class FirstBlockPlanTest {
    /** A flow's quadratic term (S3GenFlow.multiplyAddsQuadratic gives the model's); the rule holds for any q >= 0. */
    private static final double Q = 7e-4;
    /** Turbo's two solver steps, one of which does 57% of their work. */
    private static final FirstBlockPlan.Flow FLOW = new FirstBlockPlan.Flow(Q, 2, 0.57);
    private static final int PROMPT = 250;
    private static final int FLUSH = 22;
    private static final int MIN = FirstBlockPlan.MIN_PROMPT_TOKENS;

    @BeforeAll
    static void libtorch() {
        Torch.load();
    }

    private static double flow(double msPerWork, int prompt) {
        return msPerWork * StreamPacer.work(Q, prompt + FLUSH);
    }

    /** First audio as the rule predicts it: with its caution, for a flow of {@code share} of the two steps' work. */
    private static double predicted(double other, double msPerWork, int prompt, double share) {
        return FirstBlockPlan.CAUTION * (other + share * flow(msPerWork, prompt));
    }

    private static FirstBlockPlan.Choice plan(double target, double other, double perWork, int prompt) {
        return FirstBlockPlan.plan(target, FirstBlockPlan.CAUTION, 0, other, perWork, FLOW, prompt, FLUSH, MIN);
    }

    private static FirstBlockPlan.Choice whole(int prompt) {
        return FirstBlockPlan.Choice.whole(prompt, 2);
    }

    @Test
    void theWholePromptInTwoStepsUntilSomethingIsMeasuredOrWhenTheTargetIsOff() {
        assertThat(plan(1000, Double.NaN, Double.NaN, PROMPT)).isEqualTo(whole(PROMPT));
        assertThat(plan(0, 5000, 10, PROMPT)).as("target 0: off").isEqualTo(whole(PROMPT));
        assertThat(new FirstBlockPlan(1000, FLOW).choose(PROMPT, FLUSH, 0)).isEqualTo(whole(PROMPT));
    }

    @Test
    void aMachineThatMakesTheTargetKeepsTheWholePromptAndBothSteps() {
        double perWork = 1.5; // the flow over 272 tokens: about 480 ms
        double other = 1000 / FirstBlockPlan.CAUTION - flow(perWork, PROMPT); // predicted exactly on target
        assertThat(plan(1000, other, perWork, PROMPT)).isEqualTo(whole(PROMPT));
        assertThat(plan(1000, other - 300, perWork, PROMPT)).isEqualTo(whole(PROMPT));
        // measured at 95% of the target: the caution takes a little off the prompt, not a step
        FirstBlockPlan.Choice c = plan(1000, 950 - flow(perWork, PROMPT), perWork, PROMPT);
        assertThat(c.promptTokens()).isLessThan(PROMPT);
        assertThat(c.steps()).isEqualTo(2);
    }

    @Test
    void aSlowerOneGetsTheLongestPromptPredictedWithinTheTargetInTwoSteps() {
        double perWork = 3.0; // a slower CPU: the flow about 1 s over 272 tokens
        double other = 350;
        FirstBlockPlan.Choice c = plan(1000, other, perWork, PROMPT);
        assertThat(c.steps()).isEqualTo(2);
        assertThat(c.workShare()).isEqualTo(1.0);
        assertThat(c.promptTokens()).isBetween(MIN + 1, PROMPT - 1);
        assertThat(predicted(other, perWork, c.promptTokens(), 1)).isLessThanOrEqualTo(1000);
        assertThat(predicted(other, perWork, c.promptTokens() + 1, 1)).as("one token more misses")
                .isGreaterThan(1000);
    }

    @Test
    void oneThatMissesEvenWithFiveSecondsTakesOneStepWithTheLongestPromptWithinTheTarget() {
        // an AVX2-only 2-core CPU: the two-step flow about 2 s over 272 tokens, 1 s over 147
        double perWork = 5.3;
        double other = 350;
        assertThat(predicted(other, perWork, MIN, 1)).as("two steps miss even on 5 s").isGreaterThan(1000);
        FirstBlockPlan.Choice c = plan(1000, other, perWork, PROMPT);
        assertThat(c.steps()).isEqualTo(1);
        assertThat(c.workShare()).isEqualTo(0.57);
        assertThat(c.promptTokens()).isBetween(MIN, PROMPT - 1);
        assertThat(predicted(other, perWork, c.promptTokens(), 0.57)).isLessThanOrEqualTo(1000);
        if (c.promptTokens() < PROMPT) {
            assertThat(predicted(other, perWork, c.promptTokens() + 1, 0.57)).as("one token more misses")
                    .isGreaterThan(1000);
        }
    }

    @Test
    void oneThatMissesInAnyFormGetsFiveSecondsInOneStep() {
        FirstBlockPlan.Choice fewest = new FirstBlockPlan.Choice(MIN, 1, 0.57);
        assertThat(plan(1000, 600, 12.0, PROMPT)).isEqualTo(fewest);
        assertThat(plan(1000, 1500, 1.0, PROMPT)).as("T3 alone past the target").isEqualTo(fewest);
    }

    @Test
    void aPromptOfFiveSecondsOrLessIsNeverCutButMayTakeOneStep() {
        assertThat(plan(1000, 350, 1.0, MIN)).as("on target: as it is").isEqualTo(whole(MIN));
        assertThat(plan(1000, 350, 1.0, 60)).isEqualTo(whole(60));
        assertThat(plan(1000, 350, 5.3, MIN)).isEqualTo(new FirstBlockPlan.Choice(MIN, 1, 0.57));
        assertThat(plan(1000, 1500, 5.3, 60)).isEqualTo(new FirstBlockPlan.Choice(60, 1, 0.57));
    }

    @Test
    void aCheckpointOfOneStepIsOnlyEverShortened() {
        FirstBlockPlan.Flow one = new FirstBlockPlan.Flow(Q, 1, 1);
        double caution = FirstBlockPlan.CAUTION;
        assertThat(FirstBlockPlan.plan(1000, caution, 0, 600, 12.0, one, PROMPT, FLUSH, MIN))
                .isEqualTo(new FirstBlockPlan.Choice(MIN, 1, 1));
        assertThat(FirstBlockPlan.plan(1000, caution, 0, 350, 3.0, one, PROMPT, FLUSH, MIN).promptTokens())
                .isBetween(MIN + 1, PROMPT - 1);
    }

    @Test
    void measurementsDecideAndTheChoiceComesBackWhenTheMachineIsFaster() {
        FirstBlockPlan f = new FirstBlockPlan(1000, FLOW);
        assertThat(f.last()).isNull();
        assertThat(f.wouldCheapen(FLUSH)).isFalse();
        // a slow first block: 2200 ms to first audio, 1800 of it the flow over the whole prompt
        f.measured(2200, 0, 1800, PROMPT + FLUSH, whole(PROMPT));
        assertThat(f.last()).isEqualTo(whole(PROMPT));
        assertThat(f.wouldCheapen(FLUSH)).isTrue();
        FirstBlockPlan.Choice cheaper = f.choose(PROMPT, FLUSH, 0);
        assertThat(cheaper.promptTokens()).isLessThan(PROMPT);
        // then fast ones (a quiet spell), measured in whatever form they ran: the running estimates come back under
        // the target with the whole prompt in both steps
        for (int i = 0; i < 8; i++) {
            f.measured(400, 0, 250 * cheaper.workShare(), cheaper.promptTokens() + FLUSH, cheaper);
        }
        assertThat(f.last()).isEqualTo(cheaper);
        assertThat(f.choose(PROMPT, FLUSH, 0)).isEqualTo(whole(PROMPT));
        assertThat(f.wouldCheapen(FLUSH)).isFalse();
        f.forget();
        assertThat(f.last()).isNull();
        assertThat(f.choose(PROMPT, FLUSH, 0)).isEqualTo(whole(PROMPT));
    }

    @Test
    void aOneStepFlowCountsAsItsShareOfTwo() {
        // the same machine measured in two forms: a one-step flow's 570 ms says what a two-step 1000 ms says
        FirstBlockPlan two = new FirstBlockPlan(1000, FLOW);
        two.measured(1400, 0, 1000, PROMPT + FLUSH, whole(PROMPT));
        FirstBlockPlan one = new FirstBlockPlan(1000, FLOW);
        one.measured(970, 0, 570, PROMPT + FLUSH, new FirstBlockPlan.Choice(PROMPT, 1, 0.57));
        assertThat(one.choose(PROMPT, FLUSH, 0)).isEqualTo(two.choose(PROMPT, FLUSH, 0));
    }

    /**
     * One streamed request's first block on a machine whose flow takes {@code perWork} ms per unit of work and
     * {@code other} ms besides, both {@code noise} times as long this time: fed to {@code f} as it chose the block.
     * Returns when its first audio came.
     */
    private static double request(FirstBlockPlan f, double other, double perWork, double noise) {
        FirstBlockPlan.Choice c = f.choose(PROMPT, FLUSH, 0);
        double flowMs = noise * perWork * c.workShare() * StreamPacer.work(Q, c.promptTokens() + FLUSH);
        double firstAudio = noise * other + flowMs;
        f.measured(firstAudio, 0, flowMs, c.promptTokens() + FLUSH, c);
        return firstAudio;
    }

    /** A plan that measured the warm-up's first block: the whole prompt in two steps, {@code perWork}, 350 ms besides. */
    private static FirstBlockPlan warmedUp(double perWork) {
        FirstBlockPlan f = new FirstBlockPlan(1000, FLOW);
        f.measured(350 + flow(perWork, PROMPT), 0, flow(perWork, PROMPT), PROMPT + FLUSH, whole(PROMPT));
        return f;
    }

    @Test
    void theCautionIsMeasuredSoThatFirstAudioLandsUnderTheTargetNotOnIt() {
        // a noisy machine: each first block takes 0.85-1.15 times its cost (the same sequence every run)
        FirstBlockPlan noisy = warmedUp(3.0);
        assertThat(noisy.caution()).as("nothing measured against a prediction yet").isEqualTo(FirstBlockPlan.CAUTION);
        java.util.Random random = new java.util.Random(13);
        int missed = 0;
        double[] late = new double[60];
        for (int i = 0; i < late.length; i++) {
            late[i] = request(noisy, 350, 3.0, 0.85 + 0.3 * random.nextDouble());
            missed += i >= 10 && late[i] > 1000 ? 1 : 0;
        }
        assertThat(missed).as("blocks past the target once settled, of 50").isLessThanOrEqualTo(3);
        assertThat(java.util.Arrays.stream(late, 10, late.length).sorted().toArray()[25])
                .as("the median: under the target, but not far under it").isBetween(800.0, 1000.0);
        assertThat(noisy.caution()).isBetween(1.1, 1.45);

        // one whose first blocks come as predicted: the caution falls to its floor, and the prompt is longer than the
        // prior's caution allows
        FirstBlockPlan steady = warmedUp(3.0);
        for (int i = 0; i < 10; i++) {
            assertThat(request(steady, 350, 3.0, 1.0)).isLessThanOrEqualTo(1000);
        }
        assertThat(steady.caution()).isBetween(FirstBlockPlan.MIN_CAUTION, 1.01);
        assertThat(steady.choose(PROMPT, FLUSH, 0).promptTokens())
                .isGreaterThan(plan(1000, 350, 3.0, PROMPT).promptTokens());

        // a warm-up that ran 30% faster than the requests do: the first request comes late, and the caution it
        // measures puts the second one under the target
        FirstBlockPlan fast = warmedUp(3.0 / 1.3);
        assertThat(request(fast, 350 * 1.3, 3.0, 1.0)).isGreaterThan(1000);
        assertThat(fast.caution()).isGreaterThan(1.3);
        assertThat(request(fast, 350 * 1.3, 3.0, 1.0)).isLessThanOrEqualTo(1000);

        // freak blocks three times as late as predicted are bounded; forget() starts over
        for (int i = 0; i < 3; i++) {
            request(fast, 350 * 1.3, 3.0, 3.0 * (i + 1));
        }
        assertThat(fast.caution()).isEqualTo(FirstBlockPlan.MAX_CAUTION);
        fast.forget();
        assertThat(fast.caution()).isEqualTo(FirstBlockPlan.CAUTION);
    }

    /**
     * Requests of short and long texts by turns: T3's prefill and first tokens take {@code 150 + 4 x text tokens} ms
     * before the choice (15 and 70 text tokens: 210 and 430 ms), 100 ms after it besides the flow, the flow 3 ms per
     * unit of work; each block {@code 0.9-1.1} times as long (a seeded sequence). Told how long its request has taken
     * when it chooses, the plan gives each text the most flow work that lands under the target (the short ones more,
     * in two steps); with that time folded into one running mean, as before, the alternation reads as noise, the
     * caution rises, and every first block gets less work than it could have had.
     */
    @Test
    void theTimeAlreadySpentIsTheRequestsOwnSoEachTextGetsTheFlowItCanAfford() {
        double[] told = run(true);
        double[] folded = run(false);
        System.out.printf("flow work against the whole prompt's (median), told: short %.2f, long %.2f, %d missed; "
                + "folded: short %.2f, long %.2f, %d missed%n", told[0], told[1], (int) told[2], folded[0], folded[1],
                (int) folded[2]);
        assertThat(told[2]).as("requests past the target, of 40 settled, told").isLessThanOrEqualTo(2);
        assertThat(told[0]).as("short texts, more work than long ones").isGreaterThan(told[1]);
        assertThat(told[0]).as("short texts: two steps on a longer prompt").isGreaterThan(folded[0] + 0.2);
        assertThat(told[1]).as("long texts").isGreaterThan(folded[1]);
    }

    /**
     * {short texts' median flow work against the whole prompt's in two steps, long texts', requests past the
     * target} after 10 settling requests.
     */
    private static double[] run(boolean told) {
        FirstBlockPlan f = new FirstBlockPlan(1000, FLOW);
        java.util.Random random = new java.util.Random(29);
        java.util.List<Double> shortWork = new java.util.ArrayList<>();
        java.util.List<Double> longWork = new java.util.ArrayList<>();
        int missed = 0;
        double whole = StreamPacer.work(Q, PROMPT + FLUSH);
        for (int i = 0; i < 50; i++) {
            boolean longText = i % 2 == 1;
            double noise = 0.9 + 0.2 * random.nextDouble();
            double elapsed = noise * (150 + 4 * (longText ? 70 : 15));
            FirstBlockPlan.Choice c = f.choose(PROMPT, FLUSH, told ? elapsed : 0);
            double work = c.workShare() * StreamPacer.work(Q, c.promptTokens() + FLUSH);
            double flowMs = noise * 3.0 * work;
            double firstAudio = elapsed + noise * 100 + flowMs;
            f.measured(firstAudio, told ? elapsed : 0, flowMs, c.promptTokens() + FLUSH, c);
            if (i >= 10) {
                missed += firstAudio > 1000 ? 1 : 0;
                (longText ? longWork : shortWork).add(work / whole);
            }
        }
        java.util.Collections.sort(shortWork);
        java.util.Collections.sort(longWork);
        return new double[] {shortWork.get(10), longWork.get(10), missed};
    }

    @Test
    void impossibleMeasurementsAreIgnored() {
        FirstBlockPlan f = new FirstBlockPlan(1000, FLOW);
        f.measured(500, 0, 800, PROMPT + FLUSH, whole(PROMPT)); // a flow longer than the wait it is part of
        f.measured(Double.NaN, 0, 100, PROMPT + FLUSH, whole(PROMPT));
        f.measured(2000, 0, Double.NaN, PROMPT + FLUSH, whole(PROMPT));
        f.measured(2000, 0, 1500, 0, whole(PROMPT));
        assertThat(f.last()).isNull();
        assertThat(f.choose(PROMPT, FLUSH, 0)).isEqualTo(whole(PROMPT));
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
            FirstBlockPlan.Part part = FirstBlockPlan.Part.last(tokens, frames, MIN, stride);
            assertThat(part.used()).isEqualTo(MIN);
            assertThat(part.tokens().size(1)).isEqualTo(MIN);
            assertThat(part.tokens().select(1, 0).item_long()).isEqualTo(prompt - MIN);
            assertThat(part.tokens().select(1, MIN - 1).item_long()).isEqualTo(prompt - 1);
            assertThat(part.feat().size(1)).isEqualTo((long) stride * MIN);
            assertThat(part.feat().select(1, 0).select(1, 79).item_float()).isEqualTo(stride * (prompt - MIN));
            assertThat(part.feat().select(1, stride * MIN - 1).select(1, 0).item_float())
                    .isEqualTo(stride * prompt - 1);
            assertThat(part.noiseFrom()).as("the noise of the kept frames").isEqualTo((long) stride * (prompt - MIN));

            FirstBlockPlan.Part whole = FirstBlockPlan.Part.last(tokens, frames, prompt, stride);
            assertThat(whole.used()).isEqualTo(prompt);
            assertThat(whole.noiseFrom()).isZero();
            assertThat(whole.tokens().size(1)).isEqualTo(prompt);
            // a voice whose mel is shorter than its tokens' frames is never cut (the whole, said by used)
            FirstBlockPlan.Part odd = FirstBlockPlan.Part.last(tokens, frames.narrow(1, 0, stride * prompt - 1),
                    MIN, stride);
            assertThat(odd.used()).isEqualTo(prompt);
            assertThat(odd.noiseFrom()).isZero();
            assertThatThrownBy(() -> FirstBlockPlan.Part.last(tokens, frames, prompt + 1, stride))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void badSettingsAreRefused() {
        assertThatThrownBy(() -> new FirstBlockPlan(-1, FLOW)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FirstBlockPlan.Flow(Q, 0, 1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FirstBlockPlan.Flow(Q, 2, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new FirstBlockPlan.Choice(MIN, 1, 1.5)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> TtsEngine.builder().flowSteps(-1)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("flowSteps");
        assertThatThrownBy(() -> TtsEngine.builder().flowSteps(TtsOptions.MAX_FLOW_STEPS + 1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("flowSteps");
        assertThat(TtsEngine.builder().flowSteps(1).options().flowSteps()).isEqualTo(1);
        assertThatThrownBy(() -> TtsEngine.builder().firstAudioTarget(java.time.Duration.ofMillis(-1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("firstAudioTarget");
    }
}
