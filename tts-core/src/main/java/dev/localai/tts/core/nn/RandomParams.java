package dev.localai.tts.core.nn;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch.ScalarType;
import org.bytedeco.pytorch.global.torch;

/**
 * Random weights with sane scales (1/sqrt(fan_in) for matrices and kernels, ~1 for norm gains, small biases),
 * for benchmarks at real sizes without a checkpoint. Deterministic for a seed.
 */
public final class RandomParams implements ParamSource {
    private final Generator generator;
    private final String prefix;

    public RandomParams(long seed) {
        this(torch.createCPUGenerator(seed), "");
    }

    private RandomParams(Generator generator, String prefix) {
        this.generator = generator;
        this.prefix = prefix;
    }

    @Override
    public Tensor take(String key, long... shape) {
        String full = prefix + key;
        Tensor r = torch.randn(shape, new GeneratorOptional(generator), new TensorOptions(torch.ScalarType.Float));
        Tensor out;
        boolean normGain = shape.length == 1 && full.endsWith(".weight");
        if (shape.length >= 2 && !full.contains("pos_bias")) {
            long fanIn = 1;
            for (int i = 1; i < shape.length; i++) {
                fanIn *= shape[i];
            }
            out = r.mul(new org.bytedeco.pytorch.Scalar(1.0 / Math.sqrt(fanIn)));
        } else if (normGain) {
            out = r.mul(new org.bytedeco.pytorch.Scalar(0.1)).add(new org.bytedeco.pytorch.Scalar(1.0));
        } else {
            out = r.mul(new org.bytedeco.pytorch.Scalar(0.05));
        }
        r.close();
        return out.retainReference();
    }

    @Override
    public ParamSource sub(String p) {
        return new RandomParams(generator, prefix + p + ".");
    }

    /**
     * Random weights N(0, std^2) (LayerNorm-like 1-D weights around 1) in {@code dtype} on the CPU, from LibTorch's
     * default generator (seed it with {@code torch.manual_seed}). For benchmarks only.
     */
    public static ParamSource normal(ScalarType dtype, double std) {
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
