package dev.localai.tts.core.engine;

import dev.localai.tts.core.engine.api.EngineException;
import java.util.logging.Logger;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;

/**
 * The boundary between the model and the audio: no non-finite value leaves the model. A stage whose output holds
 * NaN or Inf fails its request with a {@link NonFiniteOutputException} naming the stage (an OpenAI-shaped 500 over
 * HTTP), logged once here; nothing is silenced and no garbage reaches an encoder.
 */
final class FiniteGuard {
    private static final Logger LOG = Logger.getLogger(FiniteGuard.class.getName());

    private FiniteGuard() {}

    /** Checks a tensor (any dtype, any device) produced by {@code stage}. */
    static void check(Tensor t, String stage) {
        boolean ok;
        try (Tensor finite = torch.isfinite(t); Tensor all = finite.all()) {
            ok = all.item_bool();
        }
        if (!ok) {
            throw fail(stage);
        }
    }

    /** Checks audio samples produced by {@code stage}. */
    static void check(float[] samples, String stage) {
        for (float s : samples) {
            if (!Float.isFinite(s)) {
                throw fail(stage);
            }
        }
    }

    private static NonFiniteOutputException fail(String stage) {
        NonFiniteOutputException e = new NonFiniteOutputException(stage);
        LOG.severe(e.getMessage());
        return e;
    }

    /** A model stage produced NaN or Inf. */
    static final class NonFiniteOutputException extends EngineException {
        private static final long serialVersionUID = 1L;

        NonFiniteOutputException(String stage) {
            super(Kind.INTERNAL, "The " + stage + " stage produced non-finite values (NaN or Inf); the request was"
                    + " stopped instead of returning corrupt audio.");
        }
    }
}
