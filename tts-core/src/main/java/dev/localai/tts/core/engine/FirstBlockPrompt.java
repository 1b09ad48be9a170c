package dev.localai.tts.core.engine;

import org.bytedeco.pytorch.Tensor;

/**
 * How much of the voice's S3Gen prompt a streamed request's first block conditions on, chosen from what this engine
 * measured so that first audio comes within a target where the machine allows it.
 *
 * <p>Every flow run covers the whole voice prompt as well as the tokens so far. Its attention is bidirectional, so
 * nothing of the prompt's part can be reused. With upstream's longest prompt (10 s, 250 tokens) and the first
 * block's 22 tokens, the prompt is 92% of the first block's flow. That flow is most of first audio on a CPU: about
 * 0.5 s of 0.8-1.0 on a 2-core Zen 5 EPYC, 1.8 s of 2.2 under the AVX2 caps, and about 1.0 s of 1.4-1.6 on a Zen 4 by
 * proxy (docs/performance.md). Where the first block is predicted to miss the target, its flow conditions on the
 * prompt's last part only: the last P' tokens and their 2P' mel frames, with the flow noise of those frames. That is
 * what the flow computes for a voice whose reference clip was that long, and the speaker embedding stays the whole
 * clip's. P' is never below {@link #MIN_PROMPT_TOKENS} (5 s), the shortest reference upstream accepts. The blocks after
 * the first, and every non-streamed synthesis, condition on the whole prompt; only the frames the first flow run hands
 * on (about 0.8 s of audio: the first block's 19 tokens of mel, its 0.33 s and the vocoder's look-ahead behind it)
 * come from the shorter one. Taking the end of the prompt keeps the frames that the estimator's causal convolutions
 * see just before the generated ones.
 *
 * <p>The prediction: first audio = {@link #CAUTION} x ((what the measured first blocks took besides their flow) + (the
 * flow's measured ms per unit of work) x (its work over P' + the flush's tokens)), the work as {@link StreamPacer#work}
 * counts it (its attention grows with the square of the length), the measurements as running means
 * ({@link StreamPacer#blend}). The engine's warm-up (a streamed request of the first block's size) gives the first
 * measurement; before any, the whole prompt is used. A target of 0 turns this off. Thread-safe: one per engine, fed by
 * every request's first block.
 */
final class FirstBlockPrompt {
    /** Upstream requires a reference clip longer than 5 s: 125 tokens at 25 a second. */
    static final int MIN_PROMPT_TOKENS = 125;
    /**
     * First audio is predicted this many times as long as measured: a request's first block came 5-9% later than
     * predicted from the warm-up on a 2-core Zen 5 EPYC (under the caps of a Zen 4's and an AVX2-only CPU's kernels).
     */
    static final double CAUTION = 1.1;
    /** Speech tokens a second. */
    static final double TOKENS_PER_SECOND = 1000.0 / StreamPacer.TOKEN_MS;
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(
            FirstBlockPrompt.class.getName());

    private final double targetMs;
    private final double flowQuadratic;
    private double otherMs = Double.NaN;
    private double flowMsPerWork = Double.NaN;
    private int lastPromptTokens = -1;
    /** Whether the log last said that first blocks use a shortened prompt. */
    private boolean saidShortened;

    /**
     * @param targetMs      first audio to aim at (ms from the request's start of work); 0 never shortens the prompt
     * @param flowQuadratic the flow's quadratic term ({@code S3GenFlow.multiplyAddsQuadratic})
     */
    FirstBlockPrompt(double targetMs, double flowQuadratic) {
        if (!(targetMs >= 0) || !(flowQuadratic >= 0)) {
            throw new IllegalArgumentException("target " + targetMs + " ms and quadratic term " + flowQuadratic
                    + " must be >= 0");
        }
        this.targetMs = targetMs;
        this.flowQuadratic = flowQuadratic;
    }

    /** The prompt tokens a first block of {@code flushTokens} tokens conditions on, of a voice's {@code prompt}. */
    synchronized int promptTokens(int prompt, int flushTokens) {
        int p = plan(targetMs, otherMs, flowMsPerWork, flowQuadratic, prompt, flushTokens, MIN_PROMPT_TOKENS);
        boolean shortened = p < prompt;
        // a prompt of 5 s or less is never cut: it says nothing about the rule, so the log stays as it was
        if (prompt > MIN_PROMPT_TOKENS && shortened != saidShortened) {
            saidShortened = shortened;
            double flowMs = CAUTION * flowMsPerWork * StreamPacer.work(flowQuadratic, prompt + flushTokens);
            LOG.info(String.format(java.util.Locale.ROOT, shortened
                    ? "streamed first blocks condition on the voice prompt's last %.1f s of %.1f: first audio was "
                            + "predicted at %.0f ms (the flow %.0f of it), the target is %.0f ms"
                    : "streamed first blocks condition on the whole voice prompt again (%.1f s of %.1f): first audio "
                            + "is predicted at %.0f ms (the flow %.0f of it), the target is %.0f ms",
                    p / TOKENS_PER_SECOND, prompt / TOKENS_PER_SECOND, CAUTION * otherMs + flowMs, flowMs, targetMs));
        }
        return p;
    }

    /**
     * A first block was measured: its audio came {@code firstAudioMs} after the request's work began, of which its
     * flow took {@code flowMs} over {@code flowTokens} tokens (the prompt it used and the flush's), having used
     * {@code promptTokens} of the prompt.
     */
    synchronized void measured(double firstAudioMs, double flowMs, int flowTokens, int promptTokens) {
        if (!(firstAudioMs >= 0) || !(flowMs >= 0) || flowTokens <= 0 || flowMs > firstAudioMs) {
            return;
        }
        otherMs = StreamPacer.blend(otherMs, firstAudioMs - flowMs);
        flowMsPerWork = StreamPacer.blend(flowMsPerWork, flowMs / StreamPacer.work(flowQuadratic, flowTokens));
        lastPromptTokens = promptTokens;
    }

    /**
     * Whether a first block of {@code flushTokens} tokens would now condition on less than the latest measured one's
     * prompt (no side effects; false before any measurement).
     */
    synchronized boolean wouldShorten(int flushTokens) {
        return lastPromptTokens > 0 && plan(targetMs, otherMs, flowMsPerWork, flowQuadratic, lastPromptTokens,
                flushTokens, MIN_PROMPT_TOKENS) < lastPromptTokens;
    }

    /** Drops what was measured (a process's first flow runs slower than the ones after it). */
    synchronized void forget() {
        otherMs = Double.NaN;
        flowMsPerWork = Double.NaN;
        lastPromptTokens = -1;
    }

    /** Prompt tokens the latest measured first block used, or -1 before any. */
    synchronized int lastPromptTokens() {
        return lastPromptTokens;
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
     * The rule (pure logic): the whole {@code prompt} when nothing is measured, the target is 0, the prompt is no
     * longer than {@code min}, or the whole prompt is predicted within the target; else the longest prompt in
     * [{@code min}, {@code prompt}] predicted within it, or {@code min} when none is. Predicted: {@link #CAUTION}
     * times {@code otherMs} plus the flow's {@code flowMsPerWork} per unit of {@link StreamPacer#work}.
     */
    static int plan(double targetMs, double otherMs, double flowMsPerWork, double q, int prompt, int flushTokens,
                    int min) {
        if (targetMs <= 0 || prompt <= min || Double.isNaN(otherMs) || Double.isNaN(flowMsPerWork)) {
            return prompt;
        }
        for (int p = prompt; p > min; p--) {
            if (CAUTION * (otherMs + flowMsPerWork * StreamPacer.work(q, p + flushTokens)) <= targetMs) {
                return p;
            }
        }
        return min;
    }
}
