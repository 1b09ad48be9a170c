package dev.localai.tts.core.runtime;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.pytorch.global.torch;

/** Process-wide LibTorch set-up: loading the natives and the intra-op thread count. */
public final class Torch {
    private static volatile boolean loaded;

    private Torch() {}

    /** Loads the LibTorch natives (the first call unpacks them to the JavaCPP cache; later calls are free). */
    public static void load() {
        if (!loaded) {
            synchronized (Torch.class) {
                if (!loaded) {
                    Loader.load(torch.class);
                    loaded = true;
                }
            }
        }
    }

    /**
     * Loads LibTorch and sets its intra-op thread count; {@code threads <= 0} keeps LibTorch's default (the number
     * of cores).
     */
    public static void init(int threads) {
        load();
        if (threads > 0 && torch.get_num_threads() != threads) {
            torch.set_num_threads(threads);
        }
    }

    public static int threads() {
        load();
        return torch.get_num_threads();
    }
}
