package dev.localai.tts.core.engine;

import java.util.List;
/**
 * Joins the audio of consecutive chunks: the start of each later chunk has its leading silence cut, the end of
 * each chunk has trailing silence beyond a natural pause cut, and the two meet in a short equal-power crossfade.
 * Audio flows through as soon as no trim can touch it any more: only the quiet run after the chunk's last speech
 * (what a trailing trim could remove; its loudness judged against the chunk's peak so far) and the crossfade
 * overlap are held back, so the first audio of a stream leaves with the first vocoded block. A later chunk holds
 * its first half second until its leading trim is decided.
 */
final class ChunkJoiner {
    private static final int SR = dev.localai.tts.core.engine.api.AudioClip.SAMPLE_RATE;
    private static final int LEAD_HOLD = SR / 2;
    private static final int FADE = SR / 100;
    private static final double THRESHOLD_DB = -45;
    private static final double KEEP_END_MS = 150;
    private final java.util.function.Consumer<float[]> downstream;
    private float[] held = new float[0];
    private float[] tail;
    private boolean leading;
    private double chunkPeak;

    ChunkJoiner(java.util.function.Consumer<float[]> downstream) {
        this.downstream = downstream;
    }

    void beginChunk(boolean first) {
        held = new float[0];
        leading = !first;
        chunkPeak = 0;
    }

    void accept(float[] samples) {
        held = concat(List.of(held, samples));
        if (leading) {
            if (held.length < LEAD_HOLD) {
                return;
            }
            int start = Seams.speechStart(held, SR, THRESHOLD_DB, 30);
            if (start >= held.length) {
                held = java.util.Arrays.copyOfRange(held, Math.max(0, held.length - FADE), held.length);
                return;
            }
            held = java.util.Arrays.copyOfRange(held, start, held.length);
            leading = false;
            if (tail != null) {
                held = Seams.crossfade(tail, held, FADE);
                tail = null;
            }
        }
        chunkPeak = Math.max(chunkPeak, Seams.peakRms(held, SR));
        int end = Seams.speechEnd(held, SR, THRESHOLD_DB, KEEP_END_MS, chunkPeak);
        int n = Math.min(end, held.length - FADE);
        if (n > 0) {
            downstream.accept(java.util.Arrays.copyOfRange(held, 0, n));
            held = java.util.Arrays.copyOfRange(held, n, held.length);
        }
    }

    void endChunk(boolean last) {
        if (leading) {
            // a chunk shorter than the lead hold-back: its leading silence is trimmed here
            int start = Seams.speechStart(held, SR, THRESHOLD_DB, 30);
            if (start >= held.length) {
                // the whole chunk was silence: keep the previous tail
                held = tail != null ? tail : new float[0];
            } else {
                held = java.util.Arrays.copyOfRange(held, start, held.length);
                chunkPeak = Math.max(chunkPeak, Seams.peakRms(held, SR));
                if (tail != null) {
                    held = Seams.crossfade(tail, held, FADE);
                }
            }
            tail = null;
            leading = false;
        }
        int end = Seams.speechEnd(held, SR, THRESHOLD_DB, KEEP_END_MS, chunkPeak);
        float[] body = java.util.Arrays.copyOf(held, Math.max(end, Math.min(held.length, FADE)));
        if (last) {
            downstream.accept(body);
            return;
        }
        int keep = Math.min(FADE, body.length);
        downstream.accept(java.util.Arrays.copyOf(body, body.length - keep));
        tail = java.util.Arrays.copyOfRange(body, body.length - keep, body.length);
        held = new float[0];
    }

    /** The parts one after another. */
    static float[] concat(List<float[]> parts) {
        int n = 0;
        for (float[] p : parts) {
            n += p.length;
        }
        float[] out = new float[n];
        int at = 0;
        for (float[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }
}
