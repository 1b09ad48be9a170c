package dev.localai.tts.core.audio.encode;

import java.util.Arrays;

/**
 * Pitch-preserving time-stretch by WSOLA (waveform-similarity overlap-add), streaming.
 *
 * <p>Output frames of {@code 2·Hs} samples are Hann-windowed and overlap-added every {@code Hs} samples (30 ms frames,
 * 50 % overlap, whose windows sum to one). Frame {@code k} is read from the input near {@code k·Hs·speed}; within
 * ±{@code tol} samples the position is chosen whose segment best matches (normalised cross-correlation) the natural
 * continuation of the previous frame, so periods line up and the pitch is untouched while the duration becomes
 * {@code input / speed}.
 *
 * <p>Feed chunks with {@link #process}, end with {@link #finish()}; the output is identical however the input is
 * chunked. Not thread-safe. {@code speed == 1} passes samples through unchanged.
 */
public final class TimeStretcher {

    private final double speed;
    private final int hs;
    private final int n;
    private final int tol;
    private final float[] window;

    private float[] in = new float[4096];
    private int inLen;        // valid samples in 'in'
    private long inBase;      // absolute input index of in[0]
    private long totalIn;     // input samples received

    /** The slowest speed (the OpenAI speech API's range). */
    public static final double MIN_SPEED = 0.25;
    /** The fastest speed. */
    public static final double MAX_SPEED = 4.0;

    private float[] acc = new float[4096];
    private long accBase;     // absolute output index of acc[0]

    private long frame;       // next frame index
    private long prevPos = -1;
    private long emitted;
    private boolean finished;

    /**
     * @param speed      {@value #MIN_SPEED} to {@value #MAX_SPEED} (values above 1 shorten)
     * @param sampleRate the audio's rate (sets frame and search lengths)
     */
    public TimeStretcher(double speed, int sampleRate) {
        if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
            throw new IllegalArgumentException("speed must be between " + MIN_SPEED + " and " + MAX_SPEED + ": "
                    + speed);
        }
        if (sampleRate <= 0) {
            throw new IllegalArgumentException("sampleRate must be positive: " + sampleRate);
        }
        this.speed = speed;
        this.hs = Math.max(16, (int) Math.round(sampleRate * 0.015));
        this.n = 2 * hs;
        this.tol = hs / 2;
        this.window = new float[n];
        for (int i = 0; i < n; i++) {
            window[i] = (float) (0.5 - 0.5 * Math.cos(2 * Math.PI * i / n));
        }
    }

    /** Stretches a whole clip. */
    public static float[] stretch(float[] samples, double speed, int sampleRate) {
        if (speed == 1.0) {
            return samples.clone();
        }
        TimeStretcher t = new TimeStretcher(speed, sampleRate);
        float[] a = t.process(samples, 0, samples.length);
        float[] b = t.finish();
        float[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** The speed factor. */
    public double speed() {
        return speed;
    }

    /** Feeds {@code samples} and returns the output samples that are final so far (possibly none). */
    public float[] process(float[] samples) {
        return process(samples, 0, samples.length);
    }

    /** Feeds part of an array and returns the output samples that are final so far (possibly none). */
    public float[] process(float[] samples, int offset, int length) {
        if (finished) {
            throw new IllegalStateException("finish() was called");
        }
        if (speed == 1.0) {
            totalIn += length;
            emitted += length;
            return Arrays.copyOfRange(samples, offset, offset + length);
        }
        ensureIn(inLen + length);
        System.arraycopy(samples, offset, in, inLen, length);
        inLen += length;
        totalIn += length;
        return run(false);
    }

    /** Ends the input and returns the rest of the output (total output = round(input / speed) samples). */
    public float[] finish() {
        if (finished) {
            return new float[0];
        }
        finished = true;
        if (speed == 1.0) {
            return new float[0];
        }
        return run(true);
    }

    private float[] run(boolean end) {
        long target = end ? Math.round(totalIn / speed) : Long.MAX_VALUE;
        FloatList out = new FloatList();
        while (true) {
            long outPos = frame * hs;
            if (end && outPos >= target) {
                break;
            }
            long nominal = Math.round(frame * hs * speed);
            long needEnd = Math.max(nominal + tol + n, prevPos >= 0 ? prevPos + hs + n : 0);
            if (!end && needEnd > totalIn) {
                break;
            }
            long pos = frame == 0 ? 0 : bestPosition(nominal);
            addFrame(pos, outPos, frame == 0);
            prevPos = pos;
            frame++;
            emitUpTo(Math.min(frame * hs, target), out);
            long nextNominal = Math.round(frame * hs * speed);
            trimInput(Math.min(prevPos + hs, nextNominal - tol));
        }
        if (end) {
            emitUpTo(target, out);
        }
        return out.toArray();
    }

    private long bestPosition(long nominal) {
        long template = prevPos + hs;
        long best = Math.max(0, nominal);
        double bestScore = Double.NEGATIVE_INFINITY;
        for (long cand = nominal - tol; cand <= nominal + tol; cand++) {
            if (cand < 0) {
                continue;
            }
            double cross = 0;
            double energy = 1e-9;
            for (int i = 0; i < n; i += 2) { // every other sample: ample for the match, half the cost
                float c = sample(cand + i);
                cross += c * sample(template + i);
                energy += c * c;
            }
            double score = cross / Math.sqrt(energy);
            if (score > bestScore) {
                bestScore = score;
                best = cand;
            }
        }
        return best;
    }

    private void addFrame(long pos, long outPos, boolean first) {
        ensureAcc((int) (outPos - accBase) + n);
        int at = (int) (outPos - accBase);
        for (int i = 0; i < n; i++) {
            float w = first && i < hs ? 1f : window[i];
            acc[at + i] += w * sample(pos + i);
        }
    }

    private float sample(long abs) {
        long i = abs - inBase;
        if (i < 0) {
            throw new IllegalStateException("input sample " + abs + " already dropped");
        }
        return i < inLen ? in[(int) i] : 0f;
    }

    private void emitUpTo(long outEnd, FloatList out) {
        if (outEnd <= emitted) {
            return;
        }
        int from = (int) (emitted - accBase);
        int count = (int) (outEnd - emitted);
        ensureAcc(from + count);
        out.add(acc, from, count);
        emitted = outEnd;
        // drop the emitted part of the accumulator
        int drop = (int) (emitted - accBase);
        System.arraycopy(acc, drop, acc, 0, acc.length - drop);
        Arrays.fill(acc, acc.length - drop, acc.length, 0f);
        accBase = emitted;
    }

    private void trimInput(long keepFrom) {
        long drop = Math.min(keepFrom - inBase, inLen);
        if (drop <= 0) {
            return;
        }
        System.arraycopy(in, (int) drop, in, 0, inLen - (int) drop);
        inLen -= (int) drop;
        inBase += drop;
    }

    private void ensureIn(int size) {
        if (size > in.length) {
            in = Arrays.copyOf(in, Math.max(size, in.length * 2));
        }
    }

    private void ensureAcc(int size) {
        if (size > acc.length) {
            acc = Arrays.copyOf(acc, Math.max(size, acc.length * 2));
        }
    }

    /** A minimal growable float array. */
    private static final class FloatList {
        private float[] a = new float[0];
        private int size;

        void add(float[] src, int off, int len) {
            if (size + len > a.length) {
                a = Arrays.copyOf(a, Math.max(size + len, a.length * 2));
            }
            System.arraycopy(src, off, a, size, len);
            size += len;
        }

        float[] toArray() {
            return size == a.length ? a : Arrays.copyOf(a, size);
        }
    }
}
