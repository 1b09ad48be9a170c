package dev.localai.tts.server.voices;

import dev.localai.tts.api.ApiErrors;
import java.util.concurrent.Semaphore;

/**
 * The small pool of places voice uploads take for the whole of their work: receiving the clip (spooled to disk),
 * decoding it and computing its conditionals. A clip's decoded audio and the encoders' activations are the memory
 * an upload costs, so bounding the places bounds the memory; an upload that finds every place taken gets 429 with
 * {@code Retry-After} at once, before its body is read.
 */
final class UploadSlots {
    /** Seconds a refused client is told to wait: about one clone of a short clip on a CPU. */
    static final long RETRY_AFTER_S = 5;

    private final int size;
    private final Semaphore places;

    UploadSlots(int size) {
        this.size = size;
        this.places = new Semaphore(size);
    }

    /** A place, to be closed when the upload is done; 429 when every place is taken. */
    Place take() {
        if (!places.tryAcquire()) {
            throw ApiErrors.busy("Too many voice uploads at once (at most " + size + "); retry later.", RETRY_AFTER_S);
        }
        return new Place();
    }

    /** Places taken now. */
    long taken() {
        return size - places.availablePermits();
    }

    /** One taken place. */
    final class Place implements AutoCloseable {
        private boolean released;

        private Place() {
        }

        @Override
        public void close() {
            if (!released) {
                released = true;
                places.release();
            }
        }
    }
}
