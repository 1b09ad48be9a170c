package dev.localai.tts.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The pacing rule, on a simulated clock: a streamed utterance is replayed with given costs (T3 per token, the flow per
 * token of its sequence, HiFT per token of audio), the blocks sized by the pacer or by the old doubling schedule, and
 * a real-time listener's gaps counted as {@code tts bench engine} counts them. Nothing here depends on this machine's
 * speed.
 */
class StreamPacerTest {
    /** The voice's prompt tokens (10 s) and the utterance's tokens (5 s). */
    private static final int PROMPT = 250;
    private static final int TOKENS = 125;
    private static final int FIRST = 8;
    private static final int MAX = 80;
    private static final int HELD = Utterance.LOOKAHEAD_TOKENS;

    /** Costs measured on the 2-core AMD EPYC (Zen 5) of 2026-12-04: the flow over 261 tokens 530 ms, HiFT 8 ms/token. */
    private static final StreamPacer.Costs EPYC = new StreamPacer.Costs(7.5, 2.05, 8.0);

    /** What a listener met: first audio, silence after it in how many gaps, the blocks, when it ended; cheaper audio. */
    record Run(double firstMs, double stallMs, int gaps, List<Integer> blocks, double doneMs, double cheaperMs) {}

    @Test
    void afterTheFirstBlockThePacedStreamHasOneGapAtMostAndLessSilenceThanDoubling() {
        for (boolean overlap : new boolean[] {false, true}) {
            Run doubling = simulate(EPYC, false, overlap, 0, 0);
            Run paced = simulate(EPYC, true, overlap, 0, 0);
            System.out.printf("EPYC overlap=%s: doubling %s; paced %s%n", overlap, doubling, paced);
            assertThat(doubling.gaps()).isGreaterThan(1);
            assertThat(paced.gaps()).isLessThanOrEqualTo(1);
            assertThat(paced.stallMs()).isLessThan(doubling.stallMs());
            assertThat(paced.firstMs()).isEqualTo(doubling.firstMs());
            assertThat(paced.doneMs()).isLessThanOrEqualTo(doubling.doneMs());
        }
    }

    @Test
    void aFastMachineNeverWaitsAndGrowsItsBlocksToTheLargest() {
        StreamPacer.Costs fast = new StreamPacer.Costs(2.0, 0.5, 2.0);
        for (boolean overlap : new boolean[] {false, true}) {
            Run paced = simulate(fast, true, overlap, 0, 0);
            assertThat(paced.stallMs()).isZero();
            assertThat(paced.blocks().subList(1, paced.blocks().size())).contains(MAX);
        }
        // a long utterance: fewer flow reruns than doubling, and done sooner
        Run doubling = simulate(fast, false, false, 0, 600);
        Run paced = simulate(fast, true, false, 0, 600);
        assertThat(paced.blocks().size()).isLessThanOrEqualTo(doubling.blocks().size());
        assertThat(paced.stallMs()).isZero();
    }

    @Test
    void aMachineSlowerThanRealTimeKeepsTheDoublingBlocks() {
        // in line 53 ms of work per 40 ms token; overlapped T3 (25 ms) and the vocoding (28 ms) run side by side,
        // which keeps up, so there the pacer still sizes the blocks
        StreamPacer.Costs slow = new StreamPacer.Costs(25.0, 8.0, 20.0);
        assertThat(simulate(slow, true, false, 0, 0)).isEqualTo(simulate(slow, false, false, 0, 0));
        Run paced = simulate(slow, true, true, 0, 0);
        assertThat(paced.stallMs()).isLessThan(simulate(slow, false, true, 0, 0).stallMs());
        // slower than real time either way: doubling
        StreamPacer.Costs slower = new StreamPacer.Costs(40.0, 8.0, 30.0);
        assertThat(simulate(slower, true, true, 0, 0)).isEqualTo(simulate(slower, false, true, 0, 0));
    }

    @Test
    void costsThatVaryFromBlockToBlockStillLeaveLessSilenceThanDoubling() {
        // each block's true costs drawn within +-15% of the means; twenty seeds, both pipelines. In line the paced
        // stream is quieter every time; overlapped, where doubling's blocks happen to suit these costs, never
        // noticeably worse, and quieter over all the seeds
        for (boolean overlap : new boolean[] {false, true}) {
            double pacedSum = 0;
            double doublingSum = 0;
            for (int seed = 1; seed <= 20; seed++) {
                Run doubling = simulate(EPYC, false, overlap, seed, 0);
                Run paced = simulate(EPYC, true, overlap, seed, 0);
                pacedSum += paced.stallMs();
                doublingSum += doubling.stallMs();
                assertThat(paced.stallMs()).as("seed %d overlap %s", seed, overlap)
                        .isLessThanOrEqualTo(overlap ? 1.1 * doubling.stallMs() : doubling.stallMs());
                assertThat(paced.gaps()).as("seed %d overlap %s", seed, overlap).isLessThanOrEqualTo(2);
            }
            System.out.printf("overlap %s, 20 seeds: stall %.0f ms paced, %.0f doubling%n", overlap, pacedSum / 20,
                    doublingSum / 20);
            assertThat(pacedSum).isLessThan(doublingSum);
        }
    }

    @Test
    void theChosenBlockIsTheLargestPredictedToArriveInTime() {
        StreamPacer.Costs c = new StreamPacer.Costs(10, 2, 5);
        double now = 1000;
        double playedOutAt = 3000;
        int n = StreamPacer.plan(c, 0, false, now, playedOutAt, Double.NaN, 0, 300, 8, 500, 16);
        assertThat(arrival(c, now, 300, n)).isLessThanOrEqualTo(playedOutAt);
        assertThat(arrival(c, now, 300, n + 1)).isGreaterThan(playedOutAt);
        // with a block in flight the next one waits for it, and the deadline moves by that block's audio
        int behind = StreamPacer.plan(c, 0, false, now, playedOutAt, 2500, 20, 300, 8, 500, 16);
        double start = Math.max(now + StreamPacer.CAUTION * c.t3Ms() * behind, 2500);
        assertThat(start + StreamPacer.CAUTION * (c.flowMs() * (300 + behind) + c.hiftMs() * behind))
                .isLessThanOrEqualTo(playedOutAt + 20 * StreamPacer.TOKEN_MS);
        // out of time: the smallest block that pays for the next one, within the bounds
        int late = StreamPacer.plan(c, 0, false, now, now, Double.NaN, 0, 300, 8, 500, 16);
        double perToken = StreamPacer.CAUTION * (c.t3Ms() + c.flowMs() + c.hiftMs());
        assertThat(late * StreamPacer.TOKEN_MS).isGreaterThanOrEqualTo(perToken * late
                + StreamPacer.CAUTION * c.flowMs() * 300);
        assertThat((late - 1) * StreamPacer.TOKEN_MS).isLessThan(perToken * (late - 1)
                + StreamPacer.CAUTION * c.flowMs() * 300);
    }

    @Test
    void beforeAnythingIsMeasuredTheFallbackHolds() {
        StreamPacer p = new StreamPacer(false, 0);
        assertThat(p.next(0, whole(300), 0, 8, 80, 16).tokens()).isEqualTo(16);
        p.t3(10, 75);
        p.blockDone(p.newBlock(), 260, 530, 10 * 960L, 80);
        assertThat(p.next(0, whole(300), 0, 8, 80, 16).tokens()).as("no audio has played yet").isEqualTo(16);
        p.audio(24_000, 0, false);
        assertThat(p.next(0, whole(300), 0, 8, 80, 16).tokens()).isNotEqualTo(16);
    }

    @Test
    void hiftIsCostedPerTokenOfAudioItEmittedNotPerTokenOfFramesItWasGiven() {
        // a stream's first block: HiFT given 19 tokens' frames holds its look-ahead back and emits 8 tokens' audio
        // (7680 samples) in 96 ms: 12 ms a token of audio, what the later blocks cost per token
        StreamPacer p = new StreamPacer(true, 0.0015);
        p.t3(21, 160);
        p.blockDone(p.newBlock(), 272, 600, 8 * 960L, 96);
        assertThat(p.costs().hiftMs()).isCloseTo(12.0, org.assertj.core.data.Offset.offset(1e-9));
        p.audio(8 * 960L, 0, false);
        StreamPacer.Costs c = p.costs();
        int chosen = p.next(0, whole(272), 0, 8, 80, 16).tokens();
        assertThat(chosen).isEqualTo(StreamPacer.plan(c, 0.0015, true, 0, 320, Double.NaN, 0, 272, 8, 80, 16));
        // counted by the 19 tokens' frames, HiFT would look 2.4 times cheaper and the block would not keep up
        StreamPacer.Costs framesCounted = new StreamPacer.Costs(c.t3Ms(), c.flowMs(), 96.0 / 19);
        assertThat(StreamPacer.sustaining(framesCounted, 0.0015, true, 272, 8, 80))
                .isLessThan(StreamPacer.sustaining(c, 0.0015, true, 272, 8, 80));
        // the next block's HiFT cost blends in at the same unit: 30 tokens of audio in 330 ms
        p.blockDone(p.newBlock(), 302, 650, 30 * 960L, 330);
        assertThat(p.costs().hiftMs()).isCloseTo((12.0 + 11.0) / 2, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void aLateBlockStartsWithAQuarterOfItsFramesInItsFirstWindow() {
        assertThat(StreamPacer.firstWindowOf(160)).isEqualTo(40);
        assertThat(StreamPacer.firstWindowOf(101)).isEqualTo(26);
        assertThat(StreamPacer.firstWindowOf(40)).as("at least 16 frames").isEqualTo(16);
        assertThat(StreamPacer.firstWindowOf(17)).isEqualTo(16);
        assertThat(StreamPacer.firstWindowOf(16)).as("the whole block: no cut").isZero();
        assertThat(StreamPacer.firstWindowOf(1)).isZero();

        StreamPacer p = new StreamPacer(false, 0);
        assertThat(p.firstWindow(0, 160, 20)).as("nothing measured, nothing played").isZero();
        p.blockDone(p.newBlock(), 260, 530, 10 * 960L, 100); // HiFT: 10 ms a token of audio, 5 ms a frame
        assertThat(p.firstWindow(0, 160, 20)).as("nothing played yet: the first block").isZero();
        p.audio(24_000, 0, false); // 1 s of audio from 0
        // 160 frames take 1.2 * 5 * 160 = 960 ms: from 0 they are in time, from 100 ms on they are not
        assertThat(p.firstWindow(0, 160, 20)).isZero();
        assertThat(p.firstWindow(100, 160, 20)).isEqualTo(40);
        assertThat(p.firstWindow(5000, 160, 20)).as("the listener already waits").isEqualTo(40);
        assertThat(p.firstWindow(5000, 16, 20)).as("too short to cut").isZero();
    }

    @Test
    void audioThatABlockInFlightHandsOnEarlyIsNotCountedAgainWhenItIsDone() {
        // a block in flight with 30 tokens of audio: until it is done, the listener's deadline counts its audio after
        // it; once the block's first window has left, that part is already in the listener's buffer
        StreamPacer b = new StreamPacer(true, 0);
        b.t3(10, 75);
        b.blockDone(b.newBlock(), 260, 530, 10 * 960L, 100);
        b.audio(8 * 960L, 0, false);
        b.handedOff(b.newBlock(), 0, 300, 1, 30);
        b.audio(10 * 960L, 0, false, false); // its first window: 10 of the 30 tokens
        // the same listener either way once b's block is done: b's first window counts once, not twice
        StreamPacer c = new StreamPacer(true, 0);
        c.t3(10, 75);
        c.blockDone(c.newBlock(), 260, 530, 10 * 960L, 100);
        c.audio(18 * 960L, 0, false);
        c.handedOff(c.newBlock(), 0, 300, 1, 20);
        assertThat(b.next(0, whole(300), 0, 8, 80, 16)).isEqualTo(c.next(0, whole(300), 0, 8, 80, 16));
        // counted twice (in the buffer and again after the block), the listener would look 400 ms better off than
        // it is, and the next block would be chosen larger than what arrives in time
        StreamPacer twice = new StreamPacer(true, 0);
        twice.t3(10, 75);
        twice.blockDone(twice.newBlock(), 260, 530, 10 * 960L, 100);
        twice.audio(18 * 960L, 0, false);
        twice.handedOff(twice.newBlock(), 0, 300, 1, 30);
        assertThat(twice.next(0, whole(300), 0, 8, 80, 16).tokens())
                .isGreaterThan(b.next(0, whole(300), 0, 8, 80, 16).tokens());
    }

    @Test
    void aBlockThatFinishedBeforeItsHandOffWasNotedIsNotWaitedFor() {
        StreamPacer p = new StreamPacer(false, 0);
        p.t3(10, 75);
        p.audio(48_000, 0, false); // 2 s of audio
        int id = p.newBlock();
        p.blockDone(id, 260, 530, 10 * 960L, 80);
        int clear = p.next(0, whole(300), 0, 8, 80, 16).tokens();
        p.handedOff(id, 0, 300, 1, 40); // late report of the finished block
        assertThat(p.next(0, whole(300), 0, 8, 80, 16).tokens()).isEqualTo(clear);
    }

    /** Turbo's flow: its work over L tokens grows as L + q L^2 (S3GenFlow.multiplyAddsQuadratic). */
    private static final double TURBO_Q = dev.localai.tts.core.model.s3gen.S3GenFlow.multiplyAddsQuadratic(
            dev.localai.tts.core.model.s3gen.S3GenConfig.turbo());
    /** The EPYC's costs with the flow's 530 ms over 261 tokens spread over that work (about 1.46 ms a unit). */
    private static final StreamPacer.Costs EPYC_QUADRATIC = new StreamPacer.Costs(7.5,
            530 / StreamPacer.work(TURBO_Q, 261), 8.0);

    /**
     * A flow's time grows faster than its length (its attention), and a pacer that knows by how much leaves a listener
     * less silence, in fewer gaps, than one that takes the cost per token of the last block as it was: ten seeds of
     * costs within 15% of the EPYC's, chunks of 18 and 40 s, the largest block at 80 and 400 tokens (and no worse
     * for a 5 s one).
     */
    @Test
    void longChunksArePacedByTheFlowsTrueGrowth() {
        for (int tokens : new int[] {125, 450, 1000}) {
            for (int max : new int[] {80, 400}) {
                double linearSum = 0;
                double quadraticSum = 0;
                int linearGaps = 0;
                int quadraticGaps = 0;
                for (int seed = 1; seed <= 10; seed++) {
                    Run linear = simulate(EPYC_QUADRATIC, true, false, seed, tokens, TURBO_Q, 0, max);
                    Run quadratic = simulate(EPYC_QUADRATIC, true, false, seed, tokens, TURBO_Q, TURBO_Q, max);
                    linearSum += linear.stallMs();
                    quadraticSum += quadratic.stallMs();
                    linearGaps += linear.gaps();
                    quadraticGaps += quadratic.gaps();
                }
                System.out.printf("%d tokens, max %d: linear %.0f ms %d gaps, quadratic %.0f ms %d gaps (10 seeds)%n",
                        tokens, max, linearSum / 10, linearGaps, quadraticSum / 10, quadraticGaps);
                String what = tokens + " tokens, max " + max;
                // a 5 s utterance's flows all run over about the prompt's length: the two predictions agree there,
                // within the seeds' noise (960 against 1004 ms of silence)
                assertThat(quadraticSum).as(what).isLessThanOrEqualTo(1.1 * linearSum);
                assertThat(quadraticGaps).as(what).isLessThanOrEqualTo(linearGaps);
                if (tokens > 125) {
                    // where 80 tokens cannot keep up with a 40 s chunk's flow either way, a little; else 8-32% less
                    assertThat(quadraticSum).as(what).isLessThan((tokens == 1000 && max == 80 ? 1 : 0.95) * linearSum);
                    assertThat(quadraticGaps).as(what).isLessThan(linearGaps);
                }
            }
        }
    }

    @Test
    void withoutAQuadraticTermTheSustainingSizeIsTheClosedFormOfBefore() {
        for (StreamPacer.Costs c : new StreamPacer.Costs[] {EPYC, new StreamPacer.Costs(2, 0.5, 2),
            new StreamPacer.Costs(25, 8, 20), new StreamPacer.Costs(10, 2, 5)}) {
            for (boolean overlap : new boolean[] {false, true}) {
                for (int before : new int[] {0, 1, 261, 300, 700, 1250}) {
                    double vocoding = StreamPacer.CAUTION * (c.flowMs() + c.hiftMs());
                    double perToken = overlap ? Math.max(StreamPacer.CAUTION * c.t3Ms(), vocoding)
                            : StreamPacer.CAUTION * c.t3Ms() + vocoding;
                    if (perToken >= StreamPacer.TOKEN_MS) {
                        continue; // plan() never asks then
                    }
                    double fixed = StreamPacer.CAUTION * c.flowMs() * before;
                    int closed = (int) Math.max(8, Math.min(80, Math.ceil(fixed / (StreamPacer.TOKEN_MS - perToken))));
                    assertThat(StreamPacer.sustaining(c, 0, overlap, before, 8, 80))
                            .as("%s overlap %s before %d", c, overlap, before).isEqualTo(closed);
                }
            }
        }
        // with the square term a longer sequence needs a larger block to keep up
        assertThat(StreamPacer.sustaining(EPYC_QUADRATIC, TURBO_Q, false, 700, 8, 400))
                .isGreaterThan(StreamPacer.sustaining(EPYC_QUADRATIC, 0, false, 700, 8, 400));
    }

    /**
     * Costs measured on the 2-core AMD EPYC Zen 4 (25/17) of 2026-12-06 (`tts bench engine`): T3 12.9 ms a token, the
     * flow 921 ms over 250 + 22 tokens in two steps, HiFT about 8 ms a token of audio.
     */
    private static final StreamPacer.Costs ZEN4 = new StreamPacer.Costs(12.9, 921 / StreamPacer.work(TURBO_Q, 272),
            8.0);
    /** Turbo's flow model for the cheaper ways: two steps, one step 57% of their work, prompts down to 5 s. */
    private static final StreamPacer.Cheapening TURBO_CHEAPENING = new StreamPacer.Cheapening(
            new FirstBlockPlan.Flow(TURBO_Q, 2, 0.572), FirstBlockPlan.MIN_PROMPT_TOKENS);
    /** The first block as the planner ran it on that Zen 4: the prompt's last 5 s, two steps. */
    private static final FirstBlockPlan.Choice FIRST_5S = new FirstBlockPlan.Choice(125, 2, 1);

    /** Costs under the AVX2 caps on that Zen 4: T3 14 ms a token, the flow (fp32) 1818 ms over 272, HiFT 9. */
    private static final StreamPacer.Costs ZEN4_AVX2 = new StreamPacer.Costs(14,
            1818 / StreamPacer.work(TURBO_Q, 272), 9);

    @Test
    void aBlockTheListenerWouldWaitForRunsCheapAndTheSilenceShrinks() {
        for (StreamPacer.Costs c : new StreamPacer.Costs[] {ZEN4, ZEN4_AVX2}) {
            for (boolean overlap : new boolean[] {false, true}) {
                Run exact = simulate(c, true, overlap, 0, TOKENS, TURBO_Q, TURBO_Q, MAX, FIRST_5S, null);
                Run cheap = simulate(c, true, overlap, 0, TOKENS, TURBO_Q, TURBO_Q, MAX, FIRST_5S,
                        TURBO_CHEAPENING);
                System.out.printf("%s overlap %s: exact %s%n  cheaper %s%n", c, overlap, exact, cheap);
                String what = c + " overlap " + overlap;
                // Zen 4 in line 2593 -> 416 ms, overlapped 1668 -> 156; under the AVX2 caps 4422 -> 2076, 3969 -> 743
                assertThat(cheap.stallMs()).as(what).isLessThan(0.5 * exact.stallMs());
                assertThat(cheap.firstMs()).as(what).isEqualTo(exact.firstMs());
                assertThat(cheap.doneMs()).as(what).isLessThan(exact.doneMs());
                assertThat(cheap.cheaperMs()).as(what).isGreaterThan(exact.cheaperMs());
                assertThat(exact.cheaperMs()).as(what).isEqualTo(FIRST * StreamPacer.TOKEN_MS);
            }
        }
    }

    @Test
    void theStreamGoesBackToTheWholePromptOnceItsBufferCoversABlockOnIt() {
        // the Zen 5's costs: with the whole prompt an 18 s stream waits 1.0 s in line (0.6 s overlapped); made cheaper
        // where it would wait, it never does, and most of it is still made on the whole prompt in two steps
        for (boolean overlap : new boolean[] {false, true}) {
            Run exact = simulate(EPYC_QUADRATIC, true, overlap, 0, 450, TURBO_Q, TURBO_Q, MAX, FIRST_5S, null);
            Run cheap = simulate(EPYC_QUADRATIC, true, overlap, 0, 450, TURBO_Q, TURBO_Q, MAX, FIRST_5S,
                    TURBO_CHEAPENING);
            System.out.printf("EPYC 450 tokens overlap %s: exact %s%n  cheaper %s%n", overlap, exact, cheap);
            assertThat(exact.stallMs()).isGreaterThan(500);
            assertThat(cheap.stallMs()).isZero();
            assertThat(cheap.cheaperMs()).as("overlap %s", overlap).isLessThan(0.4 * 453 * StreamPacer.TOKEN_MS);
        }
    }

    @Test
    void aMachineThatKeepsUpRunsNothingCheaper() {
        StreamPacer.Costs fast = new StreamPacer.Costs(2.0, 0.3, 2.0);
        for (boolean overlap : new boolean[] {false, true}) {
            for (int tokens : new int[] {125, 450}) {
                Run exact = simulate(fast, true, overlap, 0, tokens, TURBO_Q, TURBO_Q, MAX, whole(PROMPT), null);
                Run cheap = simulate(fast, true, overlap, 0, tokens, TURBO_Q, TURBO_Q, MAX, whole(PROMPT),
                        TURBO_CHEAPENING);
                assertThat(cheap).isEqualTo(exact);
                assertThat(cheap.cheaperMs()).isZero();
                assertThat(cheap.stallMs()).isZero();
            }
        }
    }

    @Test
    void costsThatVaryFromBlockToBlockStillLeaveLessSilenceWithCheaperBlocks() {
        // each block's true costs within +-15% of the means, twenty seeds, both pipelines, the Zen 4's and the Zen 5's
        // costs: never more silence than on the whole prompt, and over all the seeds at most half as much
        for (StreamPacer.Costs c : new StreamPacer.Costs[] {ZEN4, EPYC_QUADRATIC}) {
            for (boolean overlap : new boolean[] {false, true}) {
                double exactSum = 0;
                double cheapSum = 0;
                for (int seed = 1; seed <= 20; seed++) {
                    Run exact = simulate(c, true, overlap, seed, TOKENS, TURBO_Q, TURBO_Q, MAX, FIRST_5S, null);
                    Run cheap = simulate(c, true, overlap, seed, TOKENS, TURBO_Q, TURBO_Q, MAX, FIRST_5S,
                            TURBO_CHEAPENING);
                    assertThat(cheap.stallMs()).as("%s seed %d overlap %s", c, seed, overlap)
                            .isLessThanOrEqualTo(exact.stallMs());
                    exactSum += exact.stallMs();
                    cheapSum += cheap.stallMs();
                }
                System.out.printf("%s overlap %s, 20 seeds: stall %.0f ms on the whole prompt, %.0f cheaper%n", c,
                        overlap, exactSum / 20, cheapSum / 20);
                assertThat(cheapSum).isLessThanOrEqualTo(0.5 * exactSum);
            }
        }
    }

    @Test
    void aBlockRunsTheWholePromptExactlyWhereThatIsPredictedInTime() {
        StreamPacer.Costs c = ZEN4;
        FirstBlockPlan.Choice whole = whole(PROMPT);
        FirstBlockPlan.Choice cheapest = StreamPacer.cheapest(whole, TURBO_CHEAPENING);
        assertThat(cheapest).isEqualTo(new FirstBlockPlan.Choice(FirstBlockPlan.MIN_PROMPT_TOKENS, 1, 0.572));
        double now = 1000;
        int soFar = 60;
        int audio = 40;
        double wholeMs = StreamPacer.CAUTION * (c.flowMs() * StreamPacer.work(TURBO_Q, PROMPT + soFar)
                + c.hiftMs() * audio);
        // the listener's audio runs out just after / just before the whole prompt's block would arrive
        assertThat(StreamPacer.chooseFlow(c, TURBO_Q, now, now + wholeMs + 1, Double.NaN, 0, whole, soFar, audio,
                TURBO_CHEAPENING)).isEqualTo(whole);
        assertThat(StreamPacer.chooseFlow(c, TURBO_Q, now, now + wholeMs - 1, Double.NaN, 0, whole, soFar, audio,
                TURBO_CHEAPENING)).isEqualTo(cheapest);
        assertThat(StreamPacer.chooseFlow(c, TURBO_Q, now, now + wholeMs - 1, Double.NaN, 0, whole, soFar, audio,
                null)).isEqualTo(whole);
        // behind a block in flight, from when that one is done, against its audio's end
        assertThat(StreamPacer.chooseFlow(c, TURBO_Q, now, now, now + 500, 30, whole, soFar, audio,
                TURBO_CHEAPENING)).isEqualTo(wholeMs <= 30 * StreamPacer.TOKEN_MS ? whole : cheapest);
        // a voice of 5 s or less keeps its prompt and takes one step; a flow of one step already stays as it is
        FirstBlockPlan.Choice shortVoice = whole(100);
        assertThat(StreamPacer.cheapest(shortVoice, TURBO_CHEAPENING)).isEqualTo(new FirstBlockPlan.Choice(100, 1,
                0.572));
        FirstBlockPlan.Choice oneStep = FirstBlockPlan.Choice.whole(100, 1);
        assertThat(StreamPacer.cheapest(oneStep, TURBO_CHEAPENING)).isEqualTo(oneStep);
        // the size: the whole prompt's where its block is in time, else the cheapest way's
        for (double buffer : new double[] {300, 1000, 3000, 8000}) {
            StreamPacer.Next next = StreamPacer.choose(c, TURBO_Q, false, now, now + buffer, Double.NaN, 0, whole,
                    soFar, 8, MAX, 16, TURBO_CHEAPENING);
            int n = StreamPacer.plan(c, TURBO_Q, false, now, now + buffer, Double.NaN, 0, PROMPT + soFar, 8, MAX, 16);
            boolean inTime = StreamPacer.arrival(c, TURBO_Q, now, Double.NaN, PROMPT + soFar, n) <= now + buffer;
            StreamPacer.Costs cc = new StreamPacer.Costs(c.t3Ms(), c.flowMs() * 0.572, c.hiftMs());
            assertThat(next).as("buffer %s", buffer).isEqualTo(inTime ? new StreamPacer.Next(n, whole)
                    : new StreamPacer.Next(StreamPacer.plan(cc, TURBO_Q, false, now, now + buffer, Double.NaN, 0,
                            FirstBlockPlan.MIN_PROMPT_TOKENS + soFar, 8, MAX, 16), cheapest));
            assertThat(StreamPacer.choose(c, TURBO_Q, false, now, now + buffer, Double.NaN, 0, whole, soFar, 8, MAX,
                    16, null)).isEqualTo(new StreamPacer.Next(n, whole));
        }
        assertThat(StreamPacer.choose(c, TURBO_Q, false, now, now + 300, Double.NaN, 0, whole, soFar, 8, MAX, 16,
                TURBO_CHEAPENING).choice()).isEqualTo(cheapest);
        assertThat(StreamPacer.choose(c, TURBO_Q, false, now, now + 8000, Double.NaN, 0, whole, soFar, 8, MAX, 16,
                TURBO_CHEAPENING).choice()).isEqualTo(whole);
    }

    @Test
    void theCheaperAudioIsCountedAfterTheFirstRun() {
        StreamPacer p = new StreamPacer(false, 0, TURBO_CHEAPENING);
        p.audio(7680, 0, true); // a cheaper first block
        assertThat(p.laterCheaperRuns()).isZero();
        p.audio(0, 0, true);
        p.audio(9600, 0, false);
        p.audio(4800, 0, true);
        assertThat(p.laterCheaperRuns()).isEqualTo(1);
        assertThat(p.cheaperSamples()).isEqualTo(7680 + 4800);
        assertThat(p.vocodedSamples()).isEqualTo(7680 + 9600 + 4800);
    }

    private static double arrival(StreamPacer.Costs c, double now, int before, int n) {
        return now + StreamPacer.CAUTION * (c.t3Ms() * n + c.flowMs() * (before + n) + c.hiftMs() * n);
    }

    /**
     * Replays one streamed utterance as {@link Utterance#run} paces it: T3 decodes a token at a time, each block's
     * flow and HiFT run in line (T3 waiting) or on the helper beside T3's next block (the first block in line).
     * {@code seed} > 0 varies each block's costs by up to 15%; {@code tokens} > 0 overrides the utterance's length.
     */
    private static Run simulate(StreamPacer.Costs mean, boolean paced, boolean overlap, long seed, int tokens) {
        return simulate(mean, paced, overlap, seed, tokens, 0, 0, MAX);
    }

    /**
     * {@link #simulate(StreamPacer.Costs, boolean, boolean, long, int)} with a flow whose true time grows as {@code L +
     * trueQ L^2} (its cost per unit of that work is {@code mean.flowMs()}), a pacer told {@code pacerQ}, and blocks of
     * at most {@code max} tokens.
     */
    private static Run simulate(StreamPacer.Costs mean, boolean paced, boolean overlap, long seed, int tokens,
                                double trueQ, double pacerQ, int max) {
        return simulate(mean, paced, overlap, seed, tokens, trueQ, pacerQ, max, whole(PROMPT), null);
    }

    /** The whole prompt of {@code prompt} tokens in Turbo's two steps. */
    private static FirstBlockPlan.Choice whole(int prompt) {
        return FirstBlockPlan.Choice.whole(prompt, 2);
    }

    /**
     * As above, the first block's flow run as {@code first} says (as {@link FirstBlockPlan} may choose it), and the
     * later blocks' made cheaper by the pacer as {@code cheapening} allows (null: never). A way's flow takes its share
     * of the work over its prompt part and the tokens so far.
     */
    private static Run simulate(StreamPacer.Costs mean, boolean paced, boolean overlap, long seed, int tokens,
                                double trueQ, double pacerQ, int max, FirstBlockPlan.Choice first,
                                StreamPacer.Cheapening cheapening) {
        int total = tokens > 0 ? tokens : TOKENS;
        FirstBlockPlan.Choice whole = whole(PROMPT);
        Random rnd = new Random(seed);
        StreamPacer pacer = new StreamPacer(overlap, pacerQ, cheapening);
        List<double[]> arrivals = new ArrayList<>(); // {ms, audio ms}
        List<Integer> blocks = new ArrayList<>();
        double clock = 0;
        double helperFree = 0;
        double[] pendingEvent = null; // {done ms, id, flowTokens, flowMs, audioTokens, hiftMs, cheaper}
        int n = 0;
        int emitted = 0;
        int block = FIRST;
        blocks.add(block);
        int nextFlush = block + HELD;
        boolean isFirst = true;
        double t3Ms = 0;
        int t3Tokens = 0;
        double scale = 1;
        while (n < total) {
            double step = mean.t3Ms() * scale;
            clock += step;
            t3Ms += step;
            t3Tokens++;
            n++;
            if (n >= nextFlush && n < total) {
                pendingEvent = deliver(pacer, pendingEvent, clock, arrivals);
                pacer.t3(t3Tokens, t3Ms);
                t3Ms = 0;
                t3Tokens = 0;
                scale = seed > 0 ? 0.85 + 0.3 * rnd.nextDouble() : 1;
                int audio = n - HELD - emitted;
                FirstBlockPlan.Choice way = isFirst ? first : pacer.flowChoice(clock, whole, n, audio);
                double flowMs = mean.flowMs() * scale * way.workShare() * StreamPacer.work(trueQ, way.promptTokens() + n);
                double hiftMs = mean.hiftMs() * scale * audio;
                int id = pacer.newBlock();
                if (!overlap || isFirst) {
                    clock = Math.max(clock, helperFree);
                    pendingEvent = deliver(pacer, pendingEvent, clock, arrivals);
                    clock += flowMs + hiftMs;
                    pacer.blockDone(id, way.promptTokens() + n, flowMs / way.workShare(), audio * 960L, hiftMs);
                    pacer.audio(audio * 960L, clock, !way.equals(whole));
                    arrivals.add(new double[] {clock, audio * StreamPacer.TOKEN_MS});
                } else {
                    clock = Math.max(clock, helperFree); // submit waits for the block before
                    pendingEvent = deliver(pacer, pendingEvent, clock, arrivals);
                    helperFree = clock + flowMs + hiftMs;
                    pendingEvent = new double[] {helperFree, id, way.promptTokens() + n, flowMs / way.workShare(),
                        audio, hiftMs, way.equals(whole) ? 0 : 1};
                    pacer.handedOff(id, clock, way.promptTokens() + n, way.workShare(), audio);
                }
                isFirst = false;
                emitted = n - HELD;
                int doubled = Math.min(max, block * 2);
                block = paced ? pacer.next(clock, whole, n, FIRST, max, doubled).tokens() : doubled;
                blocks.add(block);
                nextFlush = n + block;
            }
        }
        // the last part: every token plus three of silence
        clock = Math.max(clock, helperFree);
        deliver(pacer, pendingEvent, clock, arrivals);
        int audio = total + 3 - emitted;
        FirstBlockPlan.Choice way = pacer.flowChoice(clock, whole, total + 3, audio);
        clock += mean.flowMs() * scale * way.workShare() * StreamPacer.work(trueQ, way.promptTokens() + total + 3)
                + mean.hiftMs() * scale * audio;
        pacer.audio(audio * 960L, clock, !way.equals(whole));
        arrivals.add(new double[] {clock, audio * StreamPacer.TOKEN_MS});
        blocks.remove(blocks.size() - 1);
        double played = arrivals.get(0)[0];
        double stall = 0;
        int gaps = 0;
        for (double[] a : arrivals) {
            if (a[0] > played) {
                stall += a[0] - played;
                gaps += a == arrivals.get(0) ? 0 : 1;
                played = a[0];
            }
            played += a[1];
        }
        if (System.getenv("PACER_TRACE") != null) {
            StringBuilder sb = new StringBuilder();
            for (double[] a : arrivals) {
                sb.append(String.format("%.0f+%.0f ", a[0], a[1]));
            }
            System.out.println((paced ? "paced " : "doubling ") + overlap + ": " + sb);
        }
        return new Run(arrivals.get(0)[0], stall, gaps, blocks, played,
                pacer.cheaperSamples() * 1000.0 / dev.localai.tts.core.engine.api.AudioClip.SAMPLE_RATE);
    }

    /** Reports a helper block that has finished by {@code clock}; returns what is still pending. */
    private static double[] deliver(StreamPacer pacer, double[] e, double clock, List<double[]> arrivals) {
        if (e == null || e[0] > clock) {
            return e;
        }
        pacer.blockDone((int) e[1], (int) e[2], e[3], (long) e[4] * 960L, e[5]);
        pacer.audio((long) e[4] * 960L, e[0], e[6] != 0);
        arrivals.add(new double[] {e[0], e[4] * StreamPacer.TOKEN_MS});
        return null;
    }
}
