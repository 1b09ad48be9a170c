package dev.localai.tts.cli;

import dev.localai.tts.core.checkpoint.tiny.TinyCheckpoint;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The state-dict inventory (file -> key -> shape) that {@code make-tiny-checkpoint} writes. Until every model part's
 * {@code stateDictShapes(tiny())} is wired in here, it is the tiny-profile inventory bundled with tts-core (the key
 * set of the golden tiny checkpoint).
 */
final class ModelInventory {
    private ModelInventory() {}

    static Map<String, LinkedHashMap<String, long[]>> tiny() {
        return TinyCheckpoint.bundledTinyInventory();
    }

    /** Text vocabulary size of the tiny profile (bytes + merges + endoftext + 19 tags). */
    static final int TINY_TEXT_VOCAB = 1024;
}
