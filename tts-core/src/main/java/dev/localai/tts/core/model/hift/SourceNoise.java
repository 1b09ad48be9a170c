package dev.localai.tts.core.model.hift;

import static org.bytedeco.pytorch.global.torch.rand;
import static org.bytedeco.pytorch.global.torch.randn;

import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.GeneratorOptional;
import org.bytedeco.pytorch.Scalar;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.TensorOptions;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The vocoder's random inputs, made explicit: the initial phase of every harmonic (1, H, 1), with the fundamental's
 * phase 0, and standard-normal noise (1, H, n) handed out in sample order. Consumers take noise for consecutive
 * sample ranges, so a stream of chunks sees the same noise as one call over the whole utterance.
 */
public interface SourceNoise extends AutoCloseable {

    /** Initial phases in radians (1, H, 1); element 0 is 0. The same tensor for the whole utterance. */
    Tensor initialPhase();

    /** The next {@code samples} columns of standard-normal noise, (1, H, samples). Caller owns the result. */
    Tensor next(long samples);

    @Override
    default void close() {
    }

    /**
     * Fixed tensors, e.g. recorded from upstream: {@code phase} (1, H, 1) and {@code noise} (1, H, L) consumed in order.
     * The tensors stay owned by the caller.
     */
    static SourceNoise of(Tensor phase, Tensor noise) {
        return new SourceNoise() {
            private long pos;

            @Override
            public Tensor initialPhase() {
                return phase;
            }

            @Override
            public Tensor next(long samples) {
                if (pos + samples > noise.size(2)) {
                    throw new IllegalStateException("source noise exhausted: need " + (pos + samples) + " samples, have "
                            + noise.size(2));
                }
                Tensor t = noise.narrow(2, pos, samples);
                pos += samples;
                return t;
            }
        };
    }

    /**
     * Draws from a seeded CPU generator in upstream's order: the phases as {@code U(-pi, pi)} ({@code low + rand *
     * (high - low)} in float32, fundamental forced to 0), then for every call to {@link #next} the sine noise
     * {@code randn(1, H, n)} followed by the extra {@code randn(1, n, 1)} that upstream draws and never uses.
     */
    static SourceNoise seeded(long seed, int harmonics) {
        Generator gen = torch.make_generator_cpu(seed);
        return new SourceNoise() {
            private Tensor phase;

            @Override
            public synchronized Tensor initialPhase() {
                if (phase == null) {
                    Tensor u = rand(new long[] {1, harmonics, 1}, new GeneratorOptional(gen),
                            new TensorOptions(ScalarType.Float));
                    Tensor p = phaseFromUniform(u);
                    p.retainReference();
                    phase = p;
                }
                return phase;
            }

            @Override
            public synchronized Tensor next(long samples) {
                initialPhase();
                Tensor n = randn(new long[] {1, harmonics, samples}, new GeneratorOptional(gen),
                        new TensorOptions(ScalarType.Float));
                try (Tensor unused = randn(new long[] {1, samples, 1}, new GeneratorOptional(gen),
                        new TensorOptions(ScalarType.Float))) {
                    return n;
                }
            }

            @Override
            public synchronized void close() {
                if (phase != null) {
                    phase.releaseReference();
                    phase = null;
                }
            }
        };
    }

    /** Maps uniform draws in [0, 1) (1, H, 1) to upstream's initial phases: {@code -pi + u * 2pi}, element 0 = 0. */
    static Tensor phaseFromUniform(Tensor u) {
        float pi = (float) Math.PI;
        Tensor p = u.mul(new Scalar(pi + pi)).add(new Scalar(-pi));
        p.narrow(1, 0, 1).fill_(new Scalar(0.0));
        return p;
    }
}
