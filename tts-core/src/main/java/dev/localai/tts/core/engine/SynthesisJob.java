package dev.localai.tts.core.engine;

import dev.localai.tts.core.engine.api.AudioChunk;
import dev.localai.tts.core.engine.api.AudioClip;
import dev.localai.tts.core.engine.api.EngineException;
import dev.localai.tts.core.engine.api.SpeechRequest;
import dev.localai.tts.core.engine.api.SpeechStream;
import dev.localai.tts.core.engine.api.SynthesisStats;
import java.time.Duration;
import java.util.NoSuchElementException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One request running on a worker, handing chunks to its consumer through a small bounded queue: the
 * {@link SpeechStream} a caller reads. It owns one reference to its voice, given back once whatever happens (run,
 * cancelled while queued, abandoned at engine close).
 */
final class SynthesisJob implements SpeechStream, ChunkedSynthesis.Output {
    private static final Logger LOG = Logger.getLogger(SynthesisJob.class.getName());
    private static final Object END = new Object();
    private static final int SR = AudioClip.SAMPLE_RATE;

    /** What a job needs from the engine that runs it. */
    interface Host {
        /** Whether the engine is closing. */
        boolean closed();

        /** Synthesises the request into {@code job} (see {@link ChunkedSynthesis}). */
        void produce(SynthesisJob job);

        /** The job took a slot (true) or gave it back (false). */
        void active(boolean running);

        /** The job is over: its voice is given back and the engine need not abandon it. */
        void forget(SynthesisJob job);

        /** Takes a job that has not started out of the queue. */
        void unqueue(Future<?> future);

        Duration stallTimeout();
    }

    final SpeechRequest request;
    final PreparedVoice voice;
    final boolean streaming;
    private final Host host;
    private final BlockingQueue<Object> out = new LinkedBlockingQueue<>(64);
    private final AtomicBoolean cancelled = new AtomicBoolean();
    private final AtomicBoolean voiceReleased = new AtomicBoolean();
    private final AtomicBoolean started = new AtomicBoolean();
    private final long acceptedAt = System.nanoTime();
    private volatile Future<?> future;
    private volatile long startedAt;
    private volatile long firstAudioAt;
    private volatile long inTokens;
    private volatile long outTokens;
    private volatile long samplesOut;
    private volatile double cheaperSeconds;
    private volatile long doneAt;
    private volatile int chunksTotal;
    private volatile int chunksDone;
    private AudioChunk pending;
    private boolean finished;
    private int index;
    private long offset;

    SynthesisJob(SpeechRequest request, PreparedVoice voice, boolean streaming, Host host) {
        this.request = request;
        this.voice = voice;
        this.streaming = streaming;
        this.host = host;
    }

    void started(Future<?> f) {
        this.future = f;
    }

    /** Whether the consumer cancelled or the engine is closing: polled between decode steps. */
    boolean cancelled() {
        return cancelled.get() || host.closed();
    }

    /** Gives the voice reference back, once. */
    void releaseVoice() {
        if (voiceReleased.compareAndSet(false, true)) {
            voice.release();
        }
        host.forget(this);
    }

    /** At engine close: a job that never started gives its voice back and tells its consumer. */
    void abandon() {
        if (started.compareAndSet(false, true)) {
            releaseVoice();
            deliverEnd(EngineException.notReady("the engine was closed before this request started"));
        }
    }

    void run() {
        if (!started.compareAndSet(false, true)) {
            return;
        }
        startedAt = System.nanoTime();
        host.active(true);
        Object last;
        try {
            host.produce(this);
            last = END;
        } catch (CancellationException e) {
            // the caller's own cancel ends the stream quietly; an engine shutdown is an error the caller sees
            last = host.closed() && !cancelled.get()
                    ? EngineException.notReady("the engine was closed during this synthesis") : END;
        } catch (EngineException e) {
            last = e;
        } catch (RuntimeException | Error e) {
            LOG.log(Level.SEVERE, "synthesis failed", e);
            last = new EngineException(EngineException.Kind.INTERNAL, "synthesis failed: " + e.getMessage(), null, e);
        } finally {
            // bookkeeping before the end marker, so a caller that saw the end sees the slot free
            doneAt = System.nanoTime();
            host.active(false);
            releaseVoice();
        }
        deliverEnd(last);
    }

    /**
     * Hands the end marker (or error) to the consumer whatever happens: a normal put, or — when this thread was
     * interrupted by an engine shutdown — dropping the audio still queued so the marker fits. Only a consumer that
     * cancelled itself gets nothing.
     */
    private void deliverEnd(Object last) {
        try {
            put(last);
        } catch (CancellationException e) {
            if (!cancelled.get()) {
                out.clear();
                out.offer(last);
            }
        }
    }

    @Override
    public void audio(float[] samples) {
        if (firstAudioAt == 0) {
            firstAudioAt = System.nanoTime();
        }
        samplesOut += samples.length;
        put(samples);
    }

    @Override
    public void tokens(int textTokens, int speechTokens) {
        inTokens += textTokens;
        outTokens += speechTokens;
    }

    @Override
    public void cheaperAudio(double seconds) {
        cheaperSeconds = seconds;
    }

    @Override
    public void chunks(int done, int total) {
        chunksDone = done;
        chunksTotal = total;
    }

    private void put(Object o) {
        long stallSince = System.nanoTime();
        Duration stall = host.stallTimeout();
        try {
            while (!out.offer(o, 100, TimeUnit.MILLISECONDS)) {
                if (cancelled.get()) {
                    throw new CancellationException("synthesis cancelled");
                }
                if (System.nanoTime() - stallSince > stall.toNanos()) {
                    // the consumer stopped reading without closing the stream: free the slot
                    LOG.warning("a stream's consumer read nothing for " + stall + "; cancelling it");
                    cancelled.set(true);
                    out.clear();
                    throw new CancellationException("stream consumer stalled");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        }
    }

    /** The next chunk (blocking), or null at the end. */
    AudioChunk take() {
        if (!hasNext()) {
            return null;
        }
        return next();
    }

    @Override
    public boolean hasNext() {
        if (pending != null) {
            return true;
        }
        if (finished || cancelled.get()) {
            return false;
        }
        Object o;
        try {
            o = out.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new CancellationException("interrupted while waiting for audio");
        }
        if (o == END) {
            finished = true;
            // an empty last chunk marks the end for consumers that look at last()
            pending = new AudioChunk(new float[0], index++, offset, true, stats());
            return true;
        }
        if (o instanceof EngineException e) {
            finished = true;
            throw e;
        }
        float[] s = (float[]) o;
        Object peek = out.peek();
        boolean last = peek == END;
        if (last) {
            out.poll();
            finished = true;
        }
        pending = new AudioChunk(s, index++, offset, last, stats());
        offset += s.length;
        return true;
    }

    @Override
    public AudioChunk next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        AudioChunk c = pending;
        pending = null;
        return c;
    }

    @Override
    public SynthesisStats stats() {
        long end = doneAt != 0 ? doneAt : System.nanoTime();
        long start = acceptedAt;
        long ttfa = firstAudioAt == 0 ? 0 : firstAudioAt - start;
        long queue = startedAt == 0 ? end - start : startedAt - start;
        double audio = samplesOut / (double) SR;
        // the seams' trims and crossfades take a few ms of what was vocoded out of the stream
        return new SynthesisStats(inTokens, outTokens, audio, end - start, ttfa, queue, chunksDone, chunksTotal,
                Math.min(audio, cheaperSeconds));
    }

    @Override
    public void close() {
        if (cancelled.compareAndSet(false, true)) {
            Future<?> f = future;
            if (f != null && !f.isDone()) {
                f.cancel(false);
                // a request still queued gives its queue place back at once
                host.unqueue(f);
            }
            if (started.compareAndSet(false, true)) {
                // never ran (and now never will): its voice reference is ours to give back
                releaseVoice();
            }
            out.clear();
        }
    }
}
