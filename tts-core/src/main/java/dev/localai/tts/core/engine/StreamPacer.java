package dev.localai.tts.core.engine;

/**
 * Sizes a streamed request's blocks from what this request has measured, so that a listener playing the audio in
 * real time hears as few gaps as the machine allows.
 *
 * <p>Every block reruns the flow over the voice's whole prompt and all tokens so far (its attention is bidirectional,
 * so nothing of an earlier run can be reused exactly): a fixed cost of about half a second on two CPU cores for a
 * 10 s prompt. A fixed doubling schedule (8, 16, 32, ... tokens) therefore left a gap before nearly every block on such
 * a machine. The pacer keeps a model of the listener (playback starts with the first audio; each block plays in turn,
 * and one that arrives after the audio before it has run out makes the listener wait) and of the costs (T3 per token,
 * the flow by the length of the sequence it runs over, HiFT per token of audio, each measured on this request's own
 * blocks), and after each block chooses the next one's size. The flow's time is predicted in proportion to its
 * multiply-adds, {@code L + q L^2} for a sequence of L tokens ({@code S3GenFlow.multiplyAddsQuadratic} gives q): its
 * attention grows with the square of the length, so a flow twice as long takes more than twice as long (Turbo's
 * flow over 1250 tokens about 10 times its time over 261, not 5), and a cost per token measured on a short sequence
 * would promise a long chunk's later blocks too early. The <em>sustaining</em> size is the smallest block whose
 * own playing time covers making the next block of its size (in line: T3's tokens, then the flow and HiFT; overlapped:
 * the slower of the two); a smaller block lets the listener's buffer shrink. The next block is
 * <ul>
 *   <li>the largest block (up to the maximum) above the sustaining size that is predicted to arrive before the audio
 *       already sent has played out: no gap, and the fewest flow reruns, so the buffer grows as fast as it can;</li>
 *   <li>otherwise the sustaining size: a gap that cannot be avoided (after a small first block, on a machine whose
 *       flow takes longer than that block plays) is taken once, with a block that keeps up afterwards;</li>
 *   <li>when the machine is slower than real time (by the cautious prediction) no size keeps up, and the blocks
 *       double as before anything is measured: taking the largest block then made one gap of 3 s, and more silence
 *       in all, in a slow phase of the 2-core VM.</li>
 * </ul>
 * Costs are predicted {@link #CAUTION} times as high as measured, so that a slightly slower block still arrives in
 * time. Before anything is measured the blocks double, as the fixed schedule did.
 *
 * <p>The block boundaries only decide which tokens each flow run sees, so a paced stream's samples can differ from
 * another run of the same seeded request (the tokens are the same), as they differ from the whole utterance's; its
 * length cannot. Thread-safe: T3's thread asks and reports T3's pace, the vocoding thread reports its blocks.
 */
final class StreamPacer {
    /** Milliseconds of audio per speech token (25 tokens a second). */
    static final double TOKEN_MS = 40.0;
    /** Predicted costs are this many times the measured ones. */
    static final double CAUTION = 1.2;
    /** Weight of the newest measurement in the running estimates. */
    private static final double NEWEST = 0.5;

    /**
     * The estimated costs: ms per T3 token, per unit of the flow's work ({@link #work}: a token of its sequence, plus
     * its square times the flow's quadratic term), per token of vocoded audio.
     */
    record Costs(double t3Ms, double flowMs, double hiftMs) {
        boolean known() {
            return t3Ms >= 0 && flowMs >= 0 && hiftMs >= 0;
        }
    }

    /** Whether blocks after the first are vocoded beside T3's next block ({@link Utterance.FlushPipeline}). */
    private final boolean overlap;
    /** The flow's quadratic term q: its work over L tokens is {@code L + q L^2} ({@link #work}). */
    private final double flowQuadratic;
    private double t3Ms = Double.NaN;
    private double flowMs = Double.NaN;
    private double hiftMs = Double.NaN;
    /** When the listener runs out of audio (ms on {@link #now}'s clock), or NaN before the first audio. */
    private double playedOutAt = Double.NaN;
    /** A block handed to the vocoding thread and not finished: when it started, its flow tokens and audio tokens. */
    private double pendingSince = Double.NaN;
    private int pendingFlowTokens;
    private int pendingAudioTokens;
    /** Blocks numbered in order of submission; the latest one finished. */
    private int blocks;
    private int lastDone;

    /** A pacer for a flow whose work over L tokens is {@code L + flowQuadratic L^2} ({@link #work}). */
    StreamPacer(boolean overlap, double flowQuadratic) {
        if (!(flowQuadratic >= 0)) {
            throw new IllegalArgumentException("the flow's quadratic term must be >= 0: " + flowQuadratic);
        }
        this.overlap = overlap;
        this.flowQuadratic = flowQuadratic;
    }

    /** The flow's work over {@code tokens} tokens, in tokens' worth: {@code tokens + q tokens^2}. */
    static double work(double q, int tokens) {
        return tokens + q * tokens * (double) tokens;
    }

    /** Milliseconds on a monotonic clock. */
    static double now() {
        return System.nanoTime() / 1e6;
    }

    /** {@code samples} of audio (24 kHz) left for the listener at {@code atMs}. */
    synchronized void audio(long samples, double atMs) {
        if (samples <= 0) {
            return;
        }
        double start = Double.isNaN(playedOutAt) || playedOutAt < atMs ? atMs : playedOutAt;
        playedOutAt = start + samples * 1000.0 / dev.localai.tts.core.engine.api.AudioClip.SAMPLE_RATE;
    }

    /** T3 generated {@code tokens} in {@code ms}. */
    synchronized void t3(int tokens, double ms) {
        if (tokens > 0 && ms >= 0) {
            t3Ms = blend(t3Ms, ms / tokens);
        }
    }

    /** Numbers a new block: the id its {@link #handedOff} and {@link #blockDone} name. */
    synchronized int newBlock() {
        return ++blocks;
    }

    /**
     * Block {@code id} runs on the vocoding thread since {@code atMs}: its flow sequence and audio, in tokens. Ignored
     * when the block has already reported itself done.
     */
    synchronized void handedOff(int id, double atMs, int flowTokens, int audioTokens) {
        if (id <= lastDone) {
            return;
        }
        pendingSince = atMs;
        pendingFlowTokens = flowTokens;
        pendingAudioTokens = audioTokens;
    }

    /** Samples (24 kHz) in a speech token's audio: 960. */
    static final double TOKEN_SAMPLES = TOKEN_MS * dev.localai.tts.core.engine.api.AudioClip.SAMPLE_RATE / 1000.0;

    /**
     * Block {@code id} is done: its flow ran over {@code flowTokens} tokens in {@code flowMs}, and HiFT emitted
     * {@code audioSamples} samples in {@code hiftMs}. HiFT's cost is kept per token of audio it emitted, not per token
     * of mel frames it was given: the vocoder holds back its look-ahead, so a stream's first block is given 19 tokens'
     * frames and emits 8 tokens' audio (and the last emits what was held back). Counted by the frames given, HiFT
     * looked 2.3 times cheaper after the first block than it was (5.1 against 11-12 ms a token on a 2-core AMD EPYC
     * Zen 5), and the second block came out too small to keep up.
     */
    synchronized void blockDone(int id, int flowTokens, double flowMs, long audioSamples, double hiftMs) {
        lastDone = Math.max(lastDone, id);
        pendingSince = Double.NaN;
        if (flowTokens > 0) {
            this.flowMs = blend(this.flowMs, flowMs / work(flowQuadratic, flowTokens));
        }
        if (audioSamples > 0) {
            this.hiftMs = blend(this.hiftMs, hiftMs / (audioSamples / TOKEN_SAMPLES));
        }
    }

    /** The running estimates (NaN where nothing is measured yet). */
    synchronized Costs costs() {
        return new Costs(t3Ms, flowMs, hiftMs);
    }

    /** A running estimate: {@code newest} alone at first, then weighted {@link #NEWEST} against the one before. */
    static double blend(double old, double newest) {
        return Double.isNaN(old) ? newest : (1 - NEWEST) * old + NEWEST * newest;
    }

    /** Whether audio has reached the listener. */
    synchronized boolean playing() {
        return !Double.isNaN(playedOutAt);
    }

    /**
     * The next block's audio tokens, decided at {@code nowMs} when the flow has {@code flowTokensBefore} tokens
     * before it (the prompt and the tokens so far), or {@code fallback} before the costs are known.
     */
    synchronized int next(double nowMs, int flowTokensBefore, int min, int max, int fallback) {
        Costs c = new Costs(t3Ms, flowMs, hiftMs);
        if (!c.known() || Double.isNaN(playedOutAt)) {
            return Math.max(min, Math.min(max, fallback));
        }
        double pendingDone = Double.NaN;
        if (!Double.isNaN(pendingSince)) {
            pendingDone = Math.max(nowMs,
                    pendingSince + CAUTION * (c.flowMs * work(flowQuadratic, pendingFlowTokens)
                            + c.hiftMs * pendingAudioTokens));
        }
        return plan(c, flowQuadratic, overlap, nowMs, playedOutAt, pendingDone, pendingAudioTokens, flowTokensBefore,
                min, max, fallback);
    }

    /**
     * The rule itself: block sizes in [min, max] for costs {@code c} and the flow's quadratic term {@code q}, blocks
     * vocoded beside T3 or not ({@code overlap}), at {@code now}, the listener running out at
     * {@code playedOutAt}, and a block in flight (done at {@code pendingDone} with {@code pendingAudio} tokens of
     * audio; NaN when none) that the next one waits behind; {@code fallback} when no size keeps up.
     */
    static int plan(Costs c, double q, boolean overlap, double now, double playedOutAt, double pendingDone,
                    int pendingAudio, int flowTokensBefore, int min, int max, int fallback) {
        boolean pending = !Double.isNaN(pendingDone);
        double deadline = pending
                ? Math.max(playedOutAt, pendingDone) + pendingAudio * TOKEN_MS
                : playedOutAt;
        // each further token's cost at this length (in line, T3 then the flow and HiFT; overlapped, the slower of T3
        // and the flow and HiFT beside it)
        double flowPerToken = c.flowMs() * (work(q, flowTokensBefore + 1) - work(q, flowTokensBefore));
        double vocoding = CAUTION * (flowPerToken + c.hiftMs());
        double perToken = overlap ? Math.max(CAUTION * c.t3Ms(), vocoding) : CAUTION * c.t3Ms() + vocoding;
        if (perToken >= TOKEN_MS) {
            // slower than real time (or nearly so, as measured): no size keeps up, so none is chosen from a guess;
            // the blocks grow as without measurements
            return Math.max(min, Math.min(max, fallback));
        }
        int sustaining = sustaining(c, q, overlap, flowTokensBefore, min, max);
        for (int n = max; n > sustaining; n--) {
            double t3Done = now + CAUTION * c.t3Ms() * n;
            double start = pending ? Math.max(t3Done, pendingDone) : t3Done;
            double arrival = start + CAUTION * (c.flowMs() * work(q, flowTokensBefore + n) + c.hiftMs() * n);
            if (arrival <= deadline) {
                return n; // the largest block predicted in time: no gap, and the fewest reruns
            }
        }
        // a gap is coming, or the buffer is too thin to grow: take it once with a block that keeps up afterwards
        return sustaining;
    }

    /**
     * The sustaining size (pure logic): the smallest block in [min, max] that plays at least as long as making a block
     * of its size takes after it (the flow over the {@code before} tokens and the block's own; in line T3's tokens
     * too, overlapped the slower of T3 and the block's own share of the vocoding), costs taken {@link #CAUTION} times
     * as measured; {@code max} when none does. Smaller ones let the listener's buffer shrink.
     */
    static int sustaining(Costs c, double q, boolean overlap, int before, int min, int max) {
        double fixed = CAUTION * c.flowMs() * work(q, before);
        for (int n = Math.max(1, min); n < max; n++) {
            double grow = CAUTION * (c.flowMs() * (work(q, before + n) - work(q, before)) + c.hiftMs() * n);
            double t3 = CAUTION * c.t3Ms() * n;
            double cost = fixed + (overlap ? Math.max(t3, grow) : t3 + grow);
            if (TOKEN_MS * n >= cost) {
                return n;
            }
        }
        return Math.max(min, max);
    }
}
