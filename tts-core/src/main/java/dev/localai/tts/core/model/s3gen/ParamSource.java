package dev.localai.tts.core.model.s3gen;

import org.bytedeco.pytorch.Tensor;

/**
 * Where the S3Gen modules take their weights from: a checkpoint ({@link #of(dev.localai.tts.core.checkpoint.StateDict)})
 * or random numbers for benchmarks ({@link RandomParams}). Keys are relative to the current prefix, exactly as in the
 * official state dict.
 */
public interface ParamSource {

    /** The tensor of {@code key}, checked against {@code shape}, owned by the caller (fp32 unless converted). */
    Tensor take(String key, long... shape);

    /** A view whose keys are relative to {@code prefix} (a dot is added). */
    ParamSource sub(String prefix);

    /** Adapts a checkpoint view. */
    static ParamSource of(dev.localai.tts.core.checkpoint.StateDict stateDict) {
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                return Scopes.detach(stateDict.take(key, shape));
            }

            @Override
            public ParamSource sub(String prefix) {
                return of(stateDict.sub(prefix));
            }
        };
    }

    /** A view that converts every tensor it hands out to {@code dtype} (e.g. bf16 for an experiment). */
    default ParamSource converted(org.bytedeco.pytorch.global.torch.ScalarType dtype) {
        ParamSource base = this;
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                Tensor t = base.take(key, shape);
                if (t.scalar_type() == dtype) {
                    return t;
                }
                Tensor c = Scopes.detach(t.to(dtype));
                t.close();
                return c;
            }

            @Override
            public ParamSource sub(String prefix) {
                return base.sub(prefix).converted(dtype);
            }
        };
    }
}
