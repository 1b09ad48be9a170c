package dev.localai.tts.core.model.s3gen;

import java.util.ArrayList;
import java.util.List;
import org.bytedeco.pytorch.Tensor;

/**
 * Optional observer of the flow's intermediates (for parity tests and debugging). The tensors passed are only valid
 * during the call; {@link Recording} keeps its own copies. An observer may also end the run early by throwing: the
 * exception leaves the flow's inference with the run's temporaries freed (the engine ends a cancelled request so).
 */
public interface FlowTrace {
    /** The encoder projection mu, (1, T, 80), before it is transposed for the decoder. */
    default void mu(Tensor mu) {}

    /** The estimator's velocity (1, 80, T) of Euler step {@code step}. */
    default void estimatorOut(int step, Tensor velocity) {}

    FlowTrace NONE = new FlowTrace() {};

    /** Keeps float32 copies of everything it sees; close it to free them. */
    final class Recording implements FlowTrace, AutoCloseable {
        private Tensor mu;
        private final List<Tensor> estimatorOuts = new ArrayList<>();

        @Override
        public void mu(Tensor t) {
            this.mu = t.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).clone().retainReference();
        }

        @Override
        public void estimatorOut(int step, Tensor v) {
            estimatorOuts.add(v.to(org.bytedeco.pytorch.global.torch.ScalarType.Float).clone().retainReference());
        }

        public Tensor mu() {
            return mu;
        }

        public List<Tensor> estimatorOuts() {
            return estimatorOuts;
        }

        @Override
        public void close() {
            if (mu != null) {
                mu.close();
            }
            estimatorOuts.forEach(Tensor::close);
            estimatorOuts.clear();
        }
    }
}
