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
 * <p>Where a block is predicted to leave the listener waiting (after a small first block, on a machine whose flow over
 * the whole prompt takes longer than the audio sent plays), its flow may run cheaper, as a first block's may
 * ({@link FirstBlockPlan}), and as cheap as it may: on the prompt's last {@link Cheapening#minPrompt()} tokens, in one
 * solver step. Its size is then what that way's costs allow (the largest block in time, else that way's sustaining
 * size), so that the listener's buffer grows as fast as it can; once the buffer covers a block on the whole prompt,
 * the stream goes back to the checkpoint's computation. The way is decided again when the block's tokens are in,
 * from the pace measured by then, and so is the last part's after T3's end. In simulated streams with the costs of a
 * 2-core EPYC, this way left less audio made cheaper than the least cheapened way in time (whose smaller savings
 * keep the buffer thin for longer) at the same silence. A pacer without a {@link Cheapening} runs every block after
 * the first on the whole prompt in the checkpoint's steps.
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

    /**
     * How a block's flow may run cheaper where a listener would otherwise wait: the flow's cost model (its steps, and a
     * one-step flow's share of their work) and the fewest of the voice's prompt tokens a block conditions on.
     */
    record Cheapening(FirstBlockPlan.Flow flow, int minPrompt) {
        Cheapening {
            if (flow == null || minPrompt < 1) {
                throw new IllegalArgumentException("flow " + flow + ", shortest prompt " + minPrompt);
            }
        }
    }

    /** A block's size in audio tokens and how its flow runs. */
    record Next(int tokens, FirstBlockPlan.Choice choice) {}

    /** Whether blocks after the first are vocoded beside T3's next block ({@link FlushPipeline}). */
    private final boolean overlap;
    /** How blocks may run cheaper, or null: never. */
    private final Cheapening cheapening;
    /** Samples vocoded for this pacer's request, and those of them from flow runs cheaper than the whole prompt's. */
    private long samples;
    private long cheaperSamples;
    /** Flow runs after the request's first whose audio came from a cheaper way than the whole prompt's. */
    private int laterCheaperRuns;
    /** The flow's quadratic term q: its work over L tokens is {@code L + q L^2} ({@link #work}). */
    private final double flowQuadratic;
    private double t3Ms = Double.NaN;
    private double flowMs = Double.NaN;
    private double hiftMs = Double.NaN;
    /** When the listener runs out of audio (ms on {@link #now}'s clock), or NaN before the first audio. */
    private double playedOutAt = Double.NaN;
    /**
     * A block handed to the vocoding thread and not finished: when it started, its flow tokens, its flow's share of a
     * flow in the checkpoint's steps, and its audio tokens.
     */
    private double pendingSince = Double.NaN;
    private int pendingFlowTokens;
    private double pendingShare = 1;
    private int pendingAudioTokens;
    /** Blocks numbered in order of submission; the latest one finished. */
    private int blocks;
    private int lastDone;

    /**
     * A pacer for a flow whose work over L tokens is {@code L + flowQuadratic L^2} ({@link #work}), whose blocks after
     * the first always run the whole prompt in the checkpoint's steps.
     */
    StreamPacer(boolean overlap, double flowQuadratic) {
        this(overlap, flowQuadratic, null);
    }

    /** As {@link #StreamPacer(boolean, double)}, blocks made cheaper as {@code cheapening} allows (null: never). */
    StreamPacer(boolean overlap, double flowQuadratic, Cheapening cheapening) {
        if (!(flowQuadratic >= 0)) {
            throw new IllegalArgumentException("the flow's quadratic term must be >= 0: " + flowQuadratic);
        }
        this.overlap = overlap;
        this.flowQuadratic = flowQuadratic;
        this.cheapening = cheapening;
    }

    /**
     * How many times audio after the request's first vocoded samples came from a flow run cheaper than the whole
     * prompt's ({@link #audio}; a run's held-back tail counts again).
     */
    synchronized int laterCheaperRuns() {
        return laterCheaperRuns;
    }

    /** Samples vocoded so far from flow runs cheaper than the whole prompt in the checkpoint's steps. */
    synchronized long cheaperSamples() {
        return cheaperSamples;
    }

    /** Samples left for the listener so far ({@link #audio}). */
    synchronized long vocodedSamples() {
        return samples;
    }

    /** The flow's work over {@code tokens} tokens, in tokens' worth: {@code tokens + q tokens^2}. */
    static double work(double q, int tokens) {
        return tokens + q * tokens * (double) tokens;
    }

    /** Milliseconds on a monotonic clock. */
    static double now() {
        return System.nanoTime() / 1e6;
    }

    /**
     * {@code samples} of audio (24 kHz) left for the listener at {@code atMs}, vocoded from a flow run that was
     * {@code cheaper} than the whole prompt's, or not.
     */
    synchronized void audio(long samples, double atMs, boolean cheaper) {
        audio(samples, atMs, cheaper, false);
    }

    /**
     * As {@link #audio(long, double, boolean)}; {@code continuesRun}: these samples follow others of the same flow
     * run (a later decoder window of one block, {@link #firstWindow}), which counts as one run of
     * {@link #laterCheaperRuns}.
     */
    synchronized void audio(long samples, double atMs, boolean cheaper, boolean continuesRun) {
        if (samples <= 0) {
            return;
        }
        if (!Double.isNaN(pendingSince)) {
            // audio of the block in flight, left before it reports itself done (its decoder windows, or all of it
            // just before): the listener has it now, so the block no longer adds it after it is done
            pendingAudioTokens = Math.max(0, pendingAudioTokens - (int) Math.round(samples / TOKEN_SAMPLES));
        }
        double start = Double.isNaN(playedOutAt) || playedOutAt < atMs ? atMs : playedOutAt;
        playedOutAt = start + samples * 1000.0 / dev.localai.tts.core.engine.api.AudioClip.SAMPLE_RATE;
        if (cheaper) {
            cheaperSamples += samples;
            if (this.samples > 0 && !continuesRun) {
                laterCheaperRuns++;
            }
        }
        this.samples += samples;
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
     * Block {@code id} runs on the vocoding thread since {@code atMs}: its flow sequence in tokens, doing
     * {@code workShare} of the work of a flow in the checkpoint's steps over it, and its audio in tokens. Ignored
     * when the block has already reported itself done.
     */
    synchronized void handedOff(int id, double atMs, int flowTokens, double workShare, int audioTokens) {
        if (id <= lastDone) {
            return;
        }
        pendingSince = atMs;
        pendingFlowTokens = flowTokens;
        pendingShare = workShare;
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

    /** The fewest frames a block's first decoder window emits when it is cut short ({@link #firstWindow}). */
    static final long MIN_FIRST_WINDOW = 16;

    /**
     * The frames of the first decoder window of a block whose {@code frames} mel frames are vocoded from
     * {@code nowMs} ({@code HiftStream.push} with a first window): 0 (the block's frames in the vocoder's usual
     * windows) before any audio has played, before HiFT's cost is known, or where the listener's audio is predicted
     * to last until the whole block is vocoded (HiFT's cost {@link #CAUTION} times as measured, {@code frameMs} of
     * audio a frame); else {@link #firstWindowOf} the block, so that the listener, who would wait for the whole
     * block's vocoding, waits for a quarter of it.
     */
    synchronized long firstWindow(double nowMs, long frames, double frameMs) {
        if (Double.isNaN(playedOutAt) || !(hiftMs >= 0)
                || nowMs + CAUTION * hiftMs * frames * frameMs / TOKEN_MS <= playedOutAt) {
            return 0;
        }
        return firstWindowOf(frames);
    }

    /**
     * A late block's first window (pure logic): a quarter of its {@code frames}, at least {@link #MIN_FIRST_WINDOW};
     * 0 (no cut) where that is the whole block. A quarter's audio lasts as long as vocoding the other three quarters
     * wherever HiFT runs at least 3 times faster than real time (about 5 times on two cores of a Zen 4, natively and
     * under the AVX2 caps); on a slower CPU the listener still waits less than for the whole block. A fraction fixed
     * by the block, not by the measured pace, cuts the windows in the same places whenever the same blocks run late,
     * so such runs give the same bits.
     */
    static long firstWindowOf(long frames) {
        long f = Math.max(MIN_FIRST_WINDOW, (frames + 3) / 4);
        return f >= frames ? 0 : f;
    }

    /** Whether audio has reached the listener. */
    synchronized boolean playing() {
        return !Double.isNaN(playedOutAt);
    }

    /**
     * The next block, decided at {@code nowMs} when {@code soFar} speech tokens are in (the flow runs over them and a
     * voice prompt whose whole, in the checkpoint's steps, is {@code whole}): its audio tokens in [min, max] and how
     * its flow is predicted to run ({@link #flowChoice} decides that again when the tokens are in). {@code fallback}
     * tokens and the whole prompt before the costs are known.
     */
    synchronized Next next(double nowMs, FirstBlockPlan.Choice whole, int soFar, int min, int max, int fallback) {
        Costs c = new Costs(t3Ms, flowMs, hiftMs);
        if (!c.known() || Double.isNaN(playedOutAt)) {
            return new Next(Math.max(min, Math.min(max, fallback)), whole);
        }
        return choose(c, flowQuadratic, overlap, nowMs, playedOutAt, pendingDone(c, nowMs), pendingAudioTokens, whole,
                soFar, min, max, fallback, cheapening);
    }

    /**
     * How a block whose tokens are in runs its flow, decided at {@code nowMs}: over {@code soFar} tokens and the voice
     * prompt ({@code whole} in the checkpoint's steps), to vocode {@code audioTokens} tokens of audio. The whole
     * prompt where it is predicted to arrive before the listener runs out of audio, or where the pacer has no
     * {@link Cheapening}, no costs or no audio playing; else the {@link #cheapest} way.
     */
    synchronized FirstBlockPlan.Choice flowChoice(double nowMs, FirstBlockPlan.Choice whole, int soFar,
                                                   int audioTokens) {
        Costs c = new Costs(t3Ms, flowMs, hiftMs);
        if (cheapening == null || !c.known() || Double.isNaN(playedOutAt)) {
            return whole;
        }
        return chooseFlow(c, flowQuadratic, nowMs, playedOutAt, pendingDone(c, nowMs), pendingAudioTokens, whole,
                soFar, audioTokens, cheapening);
    }

    /** When the block in flight is predicted done (never before {@code nowMs}), or NaN when none is. */
    private double pendingDone(Costs c, double nowMs) {
        if (Double.isNaN(pendingSince)) {
            return Double.NaN;
        }
        return Math.max(nowMs, pendingSince + CAUTION * (c.flowMs * pendingShare
                * work(flowQuadratic, pendingFlowTokens) + c.hiftMs * pendingAudioTokens));
    }

    /**
     * The cheapest way a block's flow may run (pure logic): the last {@code cheapening.minPrompt()} tokens of the
     * prompt (all of a shorter one) in one solver step, or {@code whole} where there is no cheapening.
     */
    static FirstBlockPlan.Choice cheapest(FirstBlockPlan.Choice whole, Cheapening cheapening) {
        if (cheapening == null) {
            return whole;
        }
        int prompt = Math.min(whole.promptTokens(), cheapening.minPrompt());
        return whole.steps() == 1 ? new FirstBlockPlan.Choice(prompt, 1, 1)
                : new FirstBlockPlan.Choice(prompt, 1, cheapening.flow().share(1));
    }

    /**
     * The rule with cheapening (pure logic): the block {@link #plan} chooses for {@code whole} over the {@code soFar}
     * tokens, where it is predicted to arrive in time or there is no cheapening; else the {@link #cheapest} way and
     * the block {@link #plan} chooses with its costs (the flow's scaled by its share of the work, over its prompt
     * part): the largest predicted in time, so that the listener's buffer grows as fast as it can and the blocks
     * after it go back to the whole prompt soonest.
     */
    static Next choose(Costs c, double q, boolean overlap, double now, double playedOutAt, double pendingDone,
                       int pendingAudio, FirstBlockPlan.Choice whole, int soFar, int min, int max, int fallback,
                       Cheapening cheapening) {
        int n = plan(c, q, overlap, now, playedOutAt, pendingDone, pendingAudio, whole.promptTokens() + soFar, min,
                max, fallback);
        if (cheapening == null || arrival(c, q, now, pendingDone, whole.promptTokens() + soFar, n)
                <= deadline(playedOutAt, pendingDone, pendingAudio)) {
            return new Next(n, whole);
        }
        FirstBlockPlan.Choice way = cheapest(whole, cheapening);
        Costs cc = new Costs(c.t3Ms(), c.flowMs() * way.workShare(), c.hiftMs());
        return new Next(plan(cc, q, overlap, now, playedOutAt, pendingDone, pendingAudio, way.promptTokens() + soFar,
                min, max, fallback), way);
    }

    /**
     * The way a block whose tokens are in runs (pure logic): {@code whole} where its flow over the prompt and the
     * {@code soFar} tokens, then HiFT over {@code audioTokens}, starting now or when the block in flight is done, is
     * predicted to arrive in time; else the {@link #cheapest}. (A way between the two, in time too, would make the
     * next block start later: in simulated streams it left more audio made the cheaper way, at the same silence.)
     */
    static FirstBlockPlan.Choice chooseFlow(Costs c, double q, double now, double playedOutAt, double pendingDone,
                                            int pendingAudio, FirstBlockPlan.Choice whole, int soFar,
                                            int audioTokens, Cheapening cheapening) {
        double start = Double.isNaN(pendingDone) ? now : Math.max(now, pendingDone);
        double done = start + CAUTION * (c.flowMs() * work(q, whole.promptTokens() + soFar) + c.hiftMs() * audioTokens);
        return done <= deadline(playedOutAt, pendingDone, pendingAudio) ? whole : cheapest(whole, cheapening);
    }

    /**
     * When the listener runs out of audio: at {@code playedOutAt}, or, with a block in flight (done at
     * {@code pendingDone}, NaN when none, with {@code pendingAudio} tokens of audio), once that block has played.
     */
    static double deadline(double playedOutAt, double pendingDone, int pendingAudio) {
        return Double.isNaN(pendingDone) ? playedOutAt
                : Math.max(playedOutAt, pendingDone) + pendingAudio * TOKEN_MS;
    }

    /**
     * When a block of {@code n} tokens started now is predicted to arrive: T3's tokens, then (after the block in
     * flight, done at {@code pendingDone}, NaN when none) the flow over {@code before + n} tokens and HiFT over
     * {@code n}, each cost {@link #CAUTION} times as measured.
     */
    static double arrival(Costs c, double q, double now, double pendingDone, int before, int n) {
        double t3Done = now + CAUTION * c.t3Ms() * n;
        double start = Double.isNaN(pendingDone) ? t3Done : Math.max(t3Done, pendingDone);
        return start + CAUTION * (c.flowMs() * work(q, before + n) + c.hiftMs() * n);
    }

    /**
     * The rule itself: block sizes in [min, max] for costs {@code c} and the flow's quadratic term {@code q}, blocks
     * vocoded beside T3 or not ({@code overlap}), at {@code now}, the listener running out at
     * {@code playedOutAt}, and a block in flight (done at {@code pendingDone} with {@code pendingAudio} tokens of
     * audio; NaN when none) that the next one waits behind; {@code fallback} when no size keeps up.
     */
    static int plan(Costs c, double q, boolean overlap, double now, double playedOutAt, double pendingDone,
                    int pendingAudio, int flowTokensBefore, int min, int max, int fallback) {
        double deadline = deadline(playedOutAt, pendingDone, pendingAudio);
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
            if (arrival(c, q, now, pendingDone, flowTokensBefore, n) <= deadline) {
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
