package dev.localai.tts.core.engine.api;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The future of {@link SpeechSynthesizer#synthesizeAsync}: the synthesis runs on its own virtual thread, and
 * cancelling the future interrupts that thread, which cancels the generation (the engine's blocking wait for audio
 * gives up on interruption and frees its slot).
 */
final class AsyncSynthesis extends CompletableFuture<AudioClip> {
    private volatile Thread worker;

    private AsyncSynthesis() {
    }

    static AsyncSynthesis start(Supplier<AudioClip> work) {
        AsyncSynthesis f = new AsyncSynthesis();
        f.worker = Thread.ofVirtual().name("tts-async").start(() -> {
            try {
                f.complete(work.get());
            } catch (Throwable t) {
                f.completeExceptionally(t);
            } finally {
                f.worker = null;
            }
        });
        return f;
    }

    @Override
    public boolean cancel(boolean mayInterruptIfRunning) {
        boolean cancelled = super.cancel(mayInterruptIfRunning);
        Thread t = worker;
        if (cancelled && t != null) {
            t.interrupt();
        }
        return cancelled;
    }
}
