package dev.localai.tts.core.model.hift;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Owns the long-lived native tensors of one loaded vocoder. Every kept tensor is retained once, so it survives
 * any {@code PointerScope} it was created in, and is released exactly once by {@link #close()}.
 */
final class Weights implements AutoCloseable {
    private final List<Tensor> owned = new ArrayList<>();
    private boolean closed;

    Tensor keep(Tensor t) {
        t.retainReference();
        owned.add(t);
        return t;
    }

    long count() {
        return owned.size();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Tensor t : owned) {
            t.releaseReference();
        }
        owned.clear();
    }
}
