package dev.localai.tts.core.engine;

import org.bytedeco.pytorch.Tensor;

/**
 * How a streamed request's first block runs its flow: on how much of the voice's S3Gen prompt, and in how many solver
 * steps. It is chosen from what this engine measured, so that first audio comes within a target where the machine
 * allows it.
 *
 * <p>Every flow run covers the whole voice prompt as well as the tokens so far. Its attention is bidirectional, so
 * nothing of the prompt's part can be reused. With upstream's longest prompt (10 s, 250 tokens) and the first block's
 * 22 tokens, the prompt is 92% of the first block's flow. That flow is most of first audio on a CPU: about 0.5 s of
 * 0.8-1.0 on a 2-core Zen 5 EPYC, 1.8 s of 2.2 under the AVX2 caps, and 0.86 s of 1.3 on a 2-core Zen 4 EPYC
 * (docs/performance.md). Where the first block is predicted to miss the target, two things make it cheaper, in this
 * order:
 * <ol>
 * <li>Its flow conditions on the prompt's last part only: the last P' tokens and their 2P' mel frames, with the flow
 * noise of those frames. That is what the flow computes for a voice whose reference clip was that long, and the
 * speaker embedding stays the whole clip's. P' is the longest predicted within the target, never below
 * {@link #MIN_PROMPT_TOKENS} (5 s), the shortest reference upstream accepts. Taking the end of the prompt keeps the
 * frames that the estimator's causal convolutions see just before the generated ones.</li>
 * <li>Where even 5 s of prompt misses, its mean-flow solver takes one Euler step (t = 0 to 1) instead of the
 * checkpoint's (Turbo: two, 0 to 0.5 to 1). One step is a computation upstream offers ({@code n_cfm_timesteps} of
 * {@code S3Token2Wav.inference}) and the mean-flow decoder was distilled for; Turbo's pipeline passes 2. It halves the
 * estimator's share of the flow: about 57% of the two-step flow's work ({@code S3GenFlow.multiplyAdds}), 52-62% of its
 * time as measured. The prompt is then again the longest predicted within the target.</li>
 * </ol>
 * Every non-streamed synthesis runs the whole prompt in the checkpoint's steps; of a stream, the frames the first flow
 * run hands on (about 0.8 s of audio: the first block's 19 tokens of mel, its 0.33 s and the vocoder's look-ahead
 * behind it) come from the cheaper run, and later blocks run the whole prompt unless the request's {@link StreamPacer}
 * predicts that a listener would otherwise wait for them: then, with a target above 0 ({@link #cheapening}), on the
 * prompt's last {@link #MIN_PROMPT_TOKENS} in one step.
 *
 * <p>The prediction, made when the first block's tokens are in: first audio = (the time already spent: T3's prefill
 * and the block's tokens) + caution x ((what the measured first blocks took after their choice besides their flow:
 * HiFT's first window) + (the flow's measured ms per unit of work) x (its work over P' + the flush's tokens)), the work
 * as {@link StreamPacer#work} counts it (its attention grows with the square of the length) times the steps' share, the
 * measurements as running means ({@link StreamPacer#blend}). The time already spent is the request's own: a long
 * text's prefill took a 277-character request's first audio 0.2 s past a short one's through the server on a 2-core
 * Zen 4 EPYC, which a running mean of all that came before the flow predicted for neither. A one-step flow's time
 * counts as its share of a full one's. The engine's warm-up (a streamed request of the first block's size) gives the
 * first measurement; before any, the whole prompt is used in the checkpoint's steps. A target of 0 turns this off.
 * Thread-safe: one per engine, fed by every request's first block.
 *
 * <p>The caution is measured too. Each first block that came with a prediction tells how late it came against it
 * (what came after its choice, actual over predicted, before the caution); the caution is the running mean of that
 * ratio plus twice its running mean deviation, within [{@link #MIN_CAUTION}, {@link #MAX_CAUTION}], so that first
 * audio lands under the target however late or noisy this machine's first blocks are, not on it half the time. The
 * running means start from {@link #PRIOR_LATENESS} and {@link #PRIOR_SPREAD}: a caution of {@link #CAUTION} before
 * any such block.
 */
final class FirstBlockPlan {
    /** Upstream requires a reference clip longer than 5 s: 125 tokens at 25 a second. */
    static final int MIN_PROMPT_TOKENS = 125;
    /**
     * How late a first block is taken to come against its prediction before any was measured: a request's first block
     * came 5-9% later than predicted from the warm-up on a 2-core Zen 5 EPYC (under the caps of a Zen 4's and an
     * AVX2-only CPU's kernels), 6% early to 14% late on a 2-core Zen 4 EPYC (25/17).
     */
    static final double PRIOR_LATENESS = 1.05;
    /** The deviation taken before any was measured. */
    static final double PRIOR_SPREAD = 0.05;
    /** The caution before any first block was measured against a prediction. */
    static final double CAUTION = PRIOR_LATENESS + 2 * PRIOR_SPREAD;
    /** The measured caution never goes below this: a prediction is never trusted to come true early. */
    static final double MIN_CAUTION = 1.0;
    /** Nor above this: one freak first block (a page-faulting process, a stolen core) does not halve the prompt. */
    static final double MAX_CAUTION = 1.5;
    /** Speech tokens a second. */
    static final double TOKENS_PER_SECOND = 1000.0 / StreamPacer.TOKEN_MS;
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(
            FirstBlockPlan.class.getName());

    /**
     * What a first block's flow runs: the last {@code promptTokens} of the voice's prompt tokens, in {@code steps}
     * solver steps, whose work is {@code workShare} of a flow in the checkpoint's steps (1 for those).
     */
    record Choice(int promptTokens, int steps, double workShare) {
        Choice {
            if (promptTokens < 0 || steps < 1 || !(workShare > 0 && workShare <= 1)) {
                throw new IllegalArgumentException("prompt tokens " + promptTokens + ", steps " + steps
                        + ", work share " + workShare);
            }
        }

        /** The whole prompt in the checkpoint's steps. */
        static Choice whole(int promptTokens, int steps) {
            return new Choice(promptTokens, steps, 1);
        }
    }

    /**
     * The flow's cost model: its quadratic term ({@code S3GenFlow.multiplyAddsQuadratic}), the checkpoint's solver
     * steps, and a one-step flow's share of their work (1 where they are one already).
     */
    record Flow(double quadratic, int steps, double oneStepShare) {
        Flow {
            if (!(quadratic >= 0) || steps < 1 || !(oneStepShare > 0 && oneStepShare <= 1)) {
                throw new IllegalArgumentException("quadratic term " + quadratic + ", steps " + steps
                        + ", one-step share " + oneStepShare);
            }
        }

        double share(int s) {
            return s == steps ? 1 : oneStepShare;
        }
    }

    private final double targetMs;
    private final Flow flow;
    /**
     * What a first block took after the choice besides its flow (HiFT's first window, handing the audio on), running
     * mean; NaN before any measurement.
     */
    private double afterMs = Double.NaN;
    /** The time from a request's start to its first block's choice, as last measured (the warm-up's, at first). */
    private double lastElapsedMs = Double.NaN;
    /** ms per unit of work of a flow in the checkpoint's steps. */
    private double flowMsPerWork = Double.NaN;
    private Choice last;
    /** Running mean of how late first blocks came against their prediction (actual / predicted), and its deviation. */
    private double lateness = PRIOR_LATENESS;
    private double spread = PRIOR_SPREAD;
    /** How many first blocks the two were measured from. */
    private int latenessSamples;
    /** What the log last said of first blocks (0: the whole prompt in the checkpoint's steps, 1: shorter, 2: one step). */
    private int said;
    /** Whether the log has said that blocks after the first ran cheaper. */
    private boolean saidLater;

    /** @param targetMs first audio to aim at (ms from the request's start of work); 0 never makes a block cheaper */
    FirstBlockPlan(double targetMs, Flow flow) {
        if (!(targetMs >= 0)) {
            throw new IllegalArgumentException("target " + targetMs + " ms must be >= 0");
        }
        this.targetMs = targetMs;
        this.flow = flow;
    }

    /**
     * How a streamed request's blocks after the first may run cheaper where a listener would otherwise wait for them
     * ({@link StreamPacer}): down to the same shortest prompt, then in one step, as a first block; null where the
     * target is 0 (every flow run then takes the whole prompt in the checkpoint's steps).
     */
    StreamPacer.Cheapening cheapening() {
        return targetMs > 0 ? new StreamPacer.Cheapening(flow, MIN_PROMPT_TOKENS) : null;
    }

    /**
     * A streamed request is done: {@code cheaperSamples} of its {@code samples} came from flow runs cheaper than the
     * whole prompt in the checkpoint's steps, {@code laterCheaperRuns} of them after its first block. The log says so
     * the first time any did after a first block.
     */
    synchronized void streamed(long cheaperSamples, long samples, int laterCheaperRuns) {
        if (samples <= 0) {
            return;
        }
        double rate = dev.localai.tts.core.engine.api.AudioClip.SAMPLE_RATE;
        if (laterCheaperRuns > 0 && !saidLater) {
            saidLater = true;
            LOG.info(String.format(java.util.Locale.ROOT, "streamed blocks after the first run on at most the voice "
                    + "prompt's last %.1f s in one flow step where a real-time listener would otherwise wait for them: "
                    + "on this machine %.1f s of a %.1f s stream came so (the target 0 keeps every block on the whole "
                    + "prompt)",
                    MIN_PROMPT_TOKENS / TOKENS_PER_SECOND, cheaperSamples / rate, samples / rate));
        }
    }

    /**
     * How a first block of {@code flushTokens} tokens runs with a voice of {@code prompt} prompt tokens, chosen
     * {@code elapsedMs} after its request's work began (T3's prefill and its first block's tokens are done by then:
     * a longer text's prefill, a slower T3 this time, count as they came).
     */
    synchronized Choice choose(int prompt, int flushTokens, double elapsedMs) {
        double caution = caution();
        Choice c = plan(targetMs, caution, elapsedMs, afterMs, flowMsPerWork, flow, prompt, flushTokens,
                MIN_PROMPT_TOKENS);
        int kind = c.steps() < flow.steps() ? 2 : c.promptTokens() < prompt ? 1 : 0;
        // a voice of 5 s or less kept whole says nothing about the rule: the log stays as it was
        if (kind != said && (kind != 0 || prompt > MIN_PROMPT_TOKENS)) {
            said = kind;
            double flowMs = caution * flowMsPerWork * c.workShare() * StreamPacer.work(flow.quadratic(),
                    c.promptTokens() + flushTokens);
            String what = switch (kind) {
                case 2 -> (c.promptTokens() < prompt
                        ? String.format(java.util.Locale.ROOT, "the voice prompt's last %.1f s of %.1f",
                                c.promptTokens() / TOKENS_PER_SECOND, prompt / TOKENS_PER_SECOND)
                        : String.format(java.util.Locale.ROOT, "the whole voice prompt (%.1f s)",
                                prompt / TOKENS_PER_SECOND))
                        + " in one flow step (of " + flow.steps() + ")";
                case 1 -> String.format(java.util.Locale.ROOT, "the voice prompt's last %.1f s of %.1f",
                        c.promptTokens() / TOKENS_PER_SECOND, prompt / TOKENS_PER_SECOND);
                default -> "the whole voice prompt again";
            };
            LOG.info(String.format(java.util.Locale.ROOT, "streamed first blocks run on %s: first audio is predicted "
                    + "at %.0f ms (the flow %.0f of it, with a caution of %.2f%s), the target is %.0f ms", what,
                    elapsedMs + caution * afterMs + flowMs, flowMs, caution,
                    latenessSamples == 0 ? "" : " measured from " + latenessSamples + " first block"
                            + (latenessSamples == 1 ? "" : "s"),
                    targetMs));
        }
        return c;
    }

    /**
     * A first block was measured: its audio came {@code firstAudioMs} after the request's work began, it was chosen
     * {@code elapsedMs} after that, and its flow took {@code flowMs} over {@code flowTokens} tokens (the prompt it used
     * and the flush's), run as {@code used} says.
     */
    synchronized void measured(double firstAudioMs, double elapsedMs, double flowMs, int flowTokens, Choice used) {
        if (!(firstAudioMs >= 0) || !(elapsedMs >= 0) || !(flowMs >= 0) || flowTokens <= 0
                || elapsedMs + flowMs > firstAudioMs) {
            return;
        }
        double predicted = predictedMs(used.workShare(), flowTokens);
        if (predicted > 0) {
            double ratio = (firstAudioMs - elapsedMs) / predicted;
            spread = StreamPacer.blend(spread, Math.abs(ratio - lateness));
            lateness = StreamPacer.blend(lateness, ratio);
            latenessSamples++;
        }
        afterMs = StreamPacer.blend(afterMs, firstAudioMs - elapsedMs - flowMs);
        flowMsPerWork = StreamPacer.blend(flowMsPerWork,
                flowMs / (used.workShare() * StreamPacer.work(flow.quadratic(), flowTokens)));
        lastElapsedMs = elapsedMs;
        last = used;
    }

    /**
     * What the measurements so far predict a first block takes from its choice to its audio, before the caution, for a
     * flow over {@code flowTokens} tokens doing {@code workShare} of the checkpoint's steps' work; NaN before any
     * measurement.
     */
    synchronized double predictedMs(double workShare, int flowTokens) {
        return afterMs + flowMsPerWork * workShare * StreamPacer.work(flow.quadratic(), flowTokens);
    }

    /** How many times as long as predicted first audio is taken to be (see the class comment). */
    synchronized double caution() {
        return Math.min(MAX_CAUTION, Math.max(MIN_CAUTION, lateness + 2 * spread));
    }

    /**
     * Whether a first block of {@code flushTokens} tokens, chosen as late as the latest measured one was, would now
     * run cheaper (on less of the prompt, or in fewer steps) than that one (no side effects; false before any
     * measurement).
     */
    synchronized boolean wouldCheapen(int flushTokens) {
        if (last == null) {
            return false;
        }
        Choice c = plan(targetMs, caution(), lastElapsedMs, afterMs, flowMsPerWork, flow, last.promptTokens(),
                flushTokens, MIN_PROMPT_TOKENS);
        return c.promptTokens() < last.promptTokens() || c.steps() < last.steps();
    }

    /** Drops what was measured (a process's first flow runs slower than the ones after it). */
    synchronized void forget() {
        afterMs = Double.NaN;
        lastElapsedMs = Double.NaN;
        flowMsPerWork = Double.NaN;
        last = null;
        lateness = PRIOR_LATENESS;
        spread = PRIOR_SPREAD;
        latenessSamples = 0;
    }

    /** How the latest measured first block ran, or null before any. */
    synchronized Choice last() {
        return last;
    }

    /**
     * The last {@code used} tokens of a voice's S3Gen prompt as the flow takes them: the tokens (1, used), their mel
     * frames (from frame stride x (P - used) on) and the first frame of the flow noise that belongs to them. Views of
     * the voice's tensors, or the tensors themselves for the whole prompt, which is also what a voice whose mel is
     * shorter than stride x P frames always gets ({@code used} then says so).
     */
    record Part(Tensor tokens, Tensor feat, long noiseFrom, long used) {
        static Part last(Tensor promptToken, Tensor promptFeat, long used, int stride) {
            long prompt = promptToken.size(1);
            if (used < 0 || used > prompt) {
                throw new IllegalArgumentException("prompt tokens used " + used + " not in [0, " + prompt + "]");
            }
            long dropped = prompt - used;
            if (dropped == 0 || promptFeat.size(1) < stride * prompt) {
                return new Part(promptToken, promptFeat, 0, prompt);
            }
            return new Part(promptToken.narrow(1, dropped, used),
                    promptFeat.narrow(1, stride * dropped, promptFeat.size(1) - stride * dropped), stride * dropped,
                    used);
        }
    }

    /**
     * The rule (pure logic). The whole {@code prompt} in the checkpoint's steps when nothing is measured, the target
     * is 0, or that is predicted within the target. Else the longest prompt in [{@code min}, {@code prompt}] predicted
     * within it in those steps; else (when they are more than one) the longest in one step; else {@code min} in the
     * fewest steps. A prompt no longer than {@code min} is never cut. Predicted: the {@code elapsedMs} already spent,
     * plus {@code caution} times ({@code afterMs} plus the flow's {@code flowMsPerWork} per unit of
     * {@link StreamPacer#work}, times the steps' share).
     */
    static Choice plan(double targetMs, double caution, double elapsedMs, double afterMs, double flowMsPerWork,
                       Flow flow, int prompt, int flushTokens, int min) {
        if (targetMs <= 0 || Double.isNaN(elapsedMs) || Double.isNaN(afterMs) || Double.isNaN(flowMsPerWork)) {
            return Choice.whole(prompt, flow.steps());
        }
        int shortest = Math.min(prompt, min);
        int[] steps = flow.steps() > 1 ? new int[] {flow.steps(), 1} : new int[] {flow.steps()};
        for (int s : steps) {
            double share = flow.share(s);
            for (int p = prompt; p >= shortest; p--) {
                if (elapsedMs + caution * (afterMs + flowMsPerWork * share
                        * StreamPacer.work(flow.quadratic(), p + flushTokens)) <= targetMs) {
                    return new Choice(p, s, share);
                }
            }
        }
        return new Choice(shortest, 1, flow.share(1));
    }
}
