package dev.localai.tts.core.nn;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * The owner of one loaded model's parameters: every tensor its {@link #track tracked source} hands out, and every
 * tensor derived from them at load ({@link ParamSource#keep}), holds one reference here and is released exactly once
 * by {@link #close()}, whatever {@code PointerScope} was open while it was made. The model's root holds it; its
 * modules only read the tensors.
 */
public final class Weights implements AutoCloseable {
    private final List<Tensor> owned = new ArrayList<>();
    private boolean closed;

    /** A view of {@code source} whose tensors (and those kept through it) this owner releases. */
    public ParamSource track(ParamSource source) {
        Weights owner = this;
        return new ForwardingParamSource(source) {
            @Override
            public Tensor take(String key, long... shape) {
                return owner.adopt(base.take(key, shape));
            }

            @Override
            public ParamSource sub(String name) {
                return owner.track(base.sub(name));
            }

            @Override
            public Tensor keep(Tensor derived) {
                return owner.keep(derived);
            }

            @Override
            public void free(Tensor taken) {
                owner.free(taken);
            }
        };
    }

    /** Takes over a tensor made at load time (adds the one reference this owner releases). */
    public synchronized Tensor keep(Tensor t) {
        t.retainReference();
        return adopt(t);
    }

    /** Releases now a tensor this owner holds that is no longer needed. */
    public synchronized void free(Tensor t) {
        if (owned.removeIf(o -> o == t)) {
            t.releaseReference();
        }
    }

    /** How many tensors this owner holds. */
    public synchronized int count() {
        return owned.size();
    }

    private synchronized Tensor adopt(Tensor alreadyRetained) {
        if (closed) {
            alreadyRetained.releaseReference();
            throw new IllegalStateException("weights already closed");
        }
        owned.add(alreadyRetained);
        return alreadyRetained;
    }

    @Override
    public synchronized void close() {
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
