package dev.localai.tts.core.model.t3;

import java.util.SplittableRandom;

/** A stream of uniform draws u in [0, 1) as float32, one per sampled token. */
@FunctionalInterface
public interface UniformSource {

    float nextUniform();

    /** A reproducible stream: 24 random bits per draw, so u is an exact float32 in [0, 1). */
    static UniformSource seeded(long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        return () -> (rng.nextInt() >>> 8) * 0x1p-24f;
    }

    /** Replays fixed draws (e.g. a golden's {@code in.uniforms}); fails when they run out. */
    static UniformSource of(float... draws) {
        float[] d = draws.clone();
        int[] i = {0};
        return () -> {
            if (i[0] >= d.length) {
                throw new IllegalStateException("only " + d.length + " uniform draws were given");
            }
            return d[i[0]++];
        };
    }
}
