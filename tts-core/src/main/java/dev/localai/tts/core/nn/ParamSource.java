package dev.localai.tts.core.nn;

import dev.localai.tts.core.checkpoint.StateDict;
import dev.localai.tts.core.runtime.Device;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * Where module constructors take their parameters from: a checkpoint ({@link #of(StateDict)}) or random values at
 * the right shapes for benchmarks ({@link RandomParams}). Keys are relative to the source's prefix, exactly as in
 * the official state dict, so a module's fields and its keys read alike.
 *
 * <p>Ownership follows the rule of this package (see {@code package-info}): a model's root builds its modules from
 * {@link Weights#track(ParamSource) a tracked source}, which hands every tensor it gives out to the root's
 * {@link Weights}; modules never close parameters themselves. An untracked source gives the caller an extra
 * reference to release.
 */
public interface ParamSource {

    /** The contiguous tensor of {@code key}, checked against {@code shape} (-1 matches any size). */
    Tensor take(String key, long... shape);

    /** The source of a child module: keys relative to {@code name} (a dot is added). */
    ParamSource sub(String name);

    /** Whether the source holds {@code key} (random sources hold every key a module asks for, and none other). */
    default boolean has(String key) {
        return false;
    }

    /** Marks {@code key} deliberately unused (upstream loads it, then deletes it or never calls it). */
    default void skip(String key) {
    }

    /** The type floating-point parameters come in. */
    default ScalarType dtype() {
        return ScalarType.Float;
    }

    /** The device parameters live on. */
    default Device device() {
        return Device.cpu();
    }

    /**
     * Hands a tensor computed at load time from taken ones (a folded weight norm, a constant table) to the owner of
     * this source's tensors; returns it. An untracked source just adds a reference for the caller to release.
     */
    default Tensor keep(Tensor derived) {
        derived.retainReference();
        return derived;
    }

    /** Gives back a tensor taken only to compute another one (e.g. weight-norm g and v), freeing it now. */
    default void free(Tensor taken) {
        taken.releaseReference();
    }

    /** Parameters from a checkpoint view (in the view's dtype: fp32 unless it was opened otherwise). */
    static ParamSource of(StateDict sd) {
        return new ParamSource() {
            @Override
            public Tensor take(String key, long... shape) {
                return sd.take(key, shape).retainReference();
            }

            @Override
            public ParamSource sub(String name) {
                return of(sd.sub(name));
            }

            @Override
            public boolean has(String key) {
                return sd.has(key);
            }

            @Override
            public void skip(String key) {
                sd.skip(key);
            }

            @Override
            public ScalarType dtype() {
                return sd.dtype();
            }

            @Override
            public Device device() {
                return sd.device();
            }
        };
    }

    /**
     * A view that converts every floating-point tensor it hands out to {@code dtype} (bf16 weights, say). Apply it
     * to an untracked source, then track the result.
     */
    default ParamSource converted(ScalarType dtype) {
        return new ForwardingParamSource(this) {
            @Override
            public Tensor take(String key, long... shape) {
                Tensor t = base.take(key, shape);
                if (t.scalar_type() == dtype || !t.is_floating_point()) {
                    return t;
                }
                Tensor c = t.to(dtype).retainReference();
                t.releaseReference();
                return c;
            }

            @Override
            public ParamSource sub(String name) {
                return base.sub(name).converted(dtype);
            }

            @Override
            public ScalarType dtype() {
                return dtype;
            }
        };
    }
}
