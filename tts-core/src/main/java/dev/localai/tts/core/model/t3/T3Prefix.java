package dev.localai.tts.core.model.t3;

import dev.localai.tts.core.runtime.RefCount;

/**
 * The KV cache of a voice's conditioning prefix, [speaker (1) | prompt speech (P)] at positions 0..P: upstream's
 * Turbo T3 puts exactly these first in every input stream ({@code prepare_conditioning}: {@code spkr_enc} of the
 * speaker embedding, then {@code speech_emb} of the prompt tokens; no perceiver or emotion input in Turbo), and under
 * GPT-2's causal attention with learned absolute positions their keys and values do not depend on anything after
 * them. So they are computed once per voice and copied into each session's own cache (copy-on-use: sessions write
 * their later rows freely, the prefix is never written after it is built). Reference-counted: the
 * {@link PrefixCache} holds one reference, a session copying from it another.
 */
final class T3Prefix {
    final KvCache cache;
    private final RefCount refs;

    T3Prefix(KvCache cache) {
        this.cache = cache;
        this.refs = new RefCount(cache::close);
    }

    /** Positions the prefix covers (1 + P). */
    int length() {
        return cache.length();
    }

    long bytes() {
        return cache.bytes();
    }

    boolean acquire() {
        return refs.acquire();
    }

    void release() {
        refs.release();
    }

    /** Copies the prefix's K/V rows into rows 0..length-1 of {@code into} and sets its length. */
    void copyInto(KvCache into) {
        into.copyPrefix(cache);
    }
}
