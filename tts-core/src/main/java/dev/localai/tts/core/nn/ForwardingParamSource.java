package dev.localai.tts.core.nn;

import dev.localai.tts.core.runtime.Device;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * A view of another {@link ParamSource} that answers {@link #has}, {@link #skip}, {@link #dtype} and
 * {@link #device} from it; the views in this package ({@link ParamSource#converted}, {@link Weights#track}) override
 * only what they change.
 */
abstract class ForwardingParamSource implements ParamSource {
    protected final ParamSource base;

    ForwardingParamSource(ParamSource base) {
        this.base = base;
    }

    @Override
    public boolean has(String key) {
        return base.has(key);
    }

    @Override
    public void skip(String key) {
        base.skip(key);
    }

    @Override
    public ScalarType dtype() {
        return base.dtype();
    }

    @Override
    public Device device() {
        return base.device();
    }
}
