package dev.localai.tts.core.testing;

import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/** Relative errors of a tensor against a reference, computed in double (for reduced-precision checks). */
public final class RelErr {
    private RelErr() {}

    /** ||actual - expected||_2 / ||expected||_2. */
    public static double l2(Tensor actual, Tensor expected) {
        try (PointerScope scope = new PointerScope()) {
            Tensor a = actual.to(ScalarType.Double);
            Tensor e = expected.to(ScalarType.Double);
            return a.sub(e).norm().item_double() / e.norm().item_double();
        }
    }

    /** max |actual - expected| / max |expected|. */
    public static double max(Tensor actual, Tensor expected) {
        try (PointerScope scope = new PointerScope()) {
            Tensor a = actual.to(ScalarType.Double);
            Tensor e = expected.to(ScalarType.Double);
            return a.sub(e).abs().max().item_double() / e.abs().max().item_double();
        }
    }
}
