package dev.localai.tts.core.model.s3gen;

import java.util.function.Supplier;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;

/** Native-memory helpers: run a computation in its own {@link PointerScope} and keep only its result. */
final class Scopes {
    private Scopes() {}

    /**
     * Runs {@code body} in a fresh scope, frees every temporary it made, and hands the result to the enclosing scope
     * (or to the caller, who must close it, when there is none).
     */
    static Tensor run(Supplier<Tensor> body) {
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

    /** Removes a freshly made tensor from the current scope so it lives until closed (weights). */
    static Tensor detach(Tensor t) {
        return keep(t);
    }

    /** Removes a freshly made native object from the current scope so it lives as long as its holder. */
    static <P extends org.bytedeco.javacpp.Pointer> P keep(P t) {
        PointerScope scope = PointerScope.getInnerScope();
        if (scope != null) {
            t.retainReference();
            scope.detach(t);
        }
        return t;
    }
}
