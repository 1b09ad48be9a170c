package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.checkpoint.StateDict;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where module constructors take their weights from: a checkpoint ({@link #of(StateDict)}) or random values at the
 * right shapes (benchmarks). Keys are relative to the source's prefix, as in {@link StateDict}. Returned tensors
 * carry an extra reference, so an enclosing {@code PointerScope} does not free them; their module closes them.
 */
public interface ParamSource {

    /** An owned, contiguous tensor for {@code key}, checked against {@code shape}. */
    Tensor take(String key, long... shape);

    /** Marks {@code key} deliberately unused (upstream loads it, then deletes it or never calls it). */
    void skip(String key);

    /** The source of a child module. */
    ParamSource sub(String name);

    /** The dtype weights come in. */
    ScalarType dtype();

    /** Weights from a checkpoint view (its dtype is that of the view; fp32 unless it was opened otherwise). */
    static ParamSource of(StateDict sd, ScalarType dtype) {
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                return sd.take(key, shape).retainReference();
            }

            @Override
            public void skip(String key) {
                sd.skip(key);
            }

            @Override
            public ParamSource sub(String name) {
                return of(sd.sub(name), dtype);
            }

            @Override
            public ScalarType dtype() {
                return dtype;
            }
        };
    }

    /**
     * Random weights N(0, std^2) (LayerNorm-like 1-D weights around 1) in {@code dtype} on the CPU, from LibTorch's
     * default generator (seed it with {@code torch.manual_seed}). For benchmarks only.
     */
    static ParamSource random(ScalarType dtype, double std) {
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                try (TensorOptions opts = new TensorOptions(ScalarType.Float)) {
                    Tensor t = torch.randn(shape, opts);
                    t.mul_(new org.bytedeco.pytorch.Scalar(std));
                    if (shape.length == 1 && key.endsWith("weight")) {
                        t.add_(new org.bytedeco.pytorch.Scalar(1.0));
                    }
                    if (dtype == ScalarType.Float) {
                        return t.retainReference();
                    }
                    Tensor c = t.to(dtype).retainReference();
                    t.close();
                    return c;
                }
            }

            @Override
            public void skip(String key) {
            }

            @Override
            public ParamSource sub(String name) {
                return this;
            }

            @Override
            public ScalarType dtype() {
                return dtype;
            }
        };
    }

}
