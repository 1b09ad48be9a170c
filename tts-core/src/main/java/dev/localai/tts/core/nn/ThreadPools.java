package dev.localai.tts.core.nn;

/**
 * Releases the calling thread's OpenMP workers when it goes idle. LibTorch's intra-op parallelism (and this project's
 * native kernels, on the same {@code libgomp}) keep a pool of worker threads per Java thread that ever computed, for
 * as long as that thread lives. libgomp counts all of them, idle or busy, and when the count exceeds the CPUs the
 * process may use it "throttles": its threads stop spinning at barriers and at the start of a parallel region and
 * sleep on futexes after about a hundred spins, so every region and barrier pays a kernel round trip. On a 2-CPU
 * machine one idle pool beside the busy one is enough: a T3 decode step (24 regions, 9 barriers each) took 9.5-10 ms on
 * the engine's worker thread against 7.3 ms when no other thread had a pool (docs/performance.md, "Tenth round").
 *
 * <p>Rule: a thread that ran model work and is about to wait for more (an engine worker between requests, the
 * stream's flush thread between blocks, the batch decoder when no session is left, whoever built the engine) calls
 * {@link #release()}. The next parallel region on that thread makes a new pool (one thread start, tens of
 * microseconds). Two threads computing at the same time on two CPUs still throttle, which is what they should do then.
 */
public final class ThreadPools {
    private static final boolean LINKED = NativeKernels.available() && linked();

    private ThreadPools() {}

    /**
     * Hands back the calling thread's idle OpenMP workers; true when released (or there were none), false where the
     * native library is missing or the caller is inside a parallel region. Never throws.
     */
    public static boolean release() {
        return LINKED && release0() == 0;
    }

    /** Whether {@link #release()} can act here (the native library with this entry point is loaded). */
    public static boolean supported() {
        return LINKED;
    }

    private static boolean linked() {
        try {
            release0();
            return true;
        } catch (UnsatisfiedLinkError e) { // a library built before this entry point existed
            return false;
        }
    }

    private static native int release0();
}
