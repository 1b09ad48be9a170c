package dev.localai.tts.core.nn;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** The forward-pass half of the native-memory rule (see {@code package-info}). */
public final class Scopes {
    private Scopes() {}

    /**
     * Runs {@code body} in a fresh {@link PointerScope}, frees every temporary it made, and hands the result to the
     * enclosing scope (or to the caller, who must close it, when there is none).
     */
    public static Tensor run(Supplier<Tensor> body) {
        Tensor out;
        try (PointerScope scope = new PointerScope()) {
            out = body.get();
            out.retainReference();
        }
        PointerScope outer = PointerScope.getInnerScope();
        if (outer != null) {
            outer.attach(out);
            out.releaseReference();
        }
        return out;
    }
}
