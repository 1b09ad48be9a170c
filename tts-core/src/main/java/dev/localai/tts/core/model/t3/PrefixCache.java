package dev.localai.tts.core.model.t3;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

/**
 * Per-voice {@link T3Prefix}es, least recently used first out once their bytes pass a budget. Keyed by the identity of
 * the voice's {@link T3Cond} (one object per prepared voice; the cache keeps it referenced, so an identity is never
 * reused while its entry lives); {@link #forget} drops a voice's entry when the voice goes. Thread-safe; a prefix is
 * computed outside the lock (two threads may compute the same one once, the second copy is dropped).
 */
final class PrefixCache {
    private final long budgetBytes;
    /** Access-ordered; keys compared by identity through {@link Key}. */
    private final LinkedHashMap<Key, T3Prefix> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;

    PrefixCache(long budgetBytes) {
        this.budgetBytes = budgetBytes;
    }

    private record Key(T3Cond cond) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.cond == cond;
        }

        @Override
        public int hashCode() {
            return System.identityHashCode(cond);
        }
    }

    /**
     * The voice's prefix, acquired for the caller (release it), computed by {@code build} on a miss; null when the
     * budget cannot hold even this one prefix (the caller then prefills the whole stream).
     */
    T3Prefix acquire(T3Cond cond, Function<T3Cond, T3Prefix> build) {
        Key key = new Key(cond);
        synchronized (this) {
            T3Prefix p = entries.get(key);
            if (p != null && p.acquire()) {
                return p;
            }
        }
        T3Prefix fresh = build.apply(cond);
        if (fresh.bytes() > budgetBytes) {
            fresh.release();
            return null;
        }
        synchronized (this) {
            T3Prefix p = entries.get(key);
            if (p != null && p.acquire()) {
                fresh.release();
                return p;
            }
            entries.put(key, fresh);
            bytes += fresh.bytes();
            fresh.acquire();
            evict();
            return fresh;
        }
    }

    private void evict() {
        Iterator<Map.Entry<Key, T3Prefix>> it = entries.entrySet().iterator();
        while (bytes > budgetBytes && it.hasNext()) {
            T3Prefix p = it.next().getValue();
            it.remove();
            bytes -= p.bytes();
            p.release();
        }
    }

    /** Drops the voice's prefix (sessions copying from it keep it until they are done). */
    synchronized void forget(T3Cond cond) {
        T3Prefix p = entries.remove(new Key(cond));
        if (p != null) {
            bytes -= p.bytes();
            p.release();
        }
    }

    synchronized int size() {
        return entries.size();
    }

    synchronized long bytes() {
        return bytes;
    }

    synchronized void clear() {
        entries.values().forEach(T3Prefix::release);
        entries.clear();
        bytes = 0;
    }

}
