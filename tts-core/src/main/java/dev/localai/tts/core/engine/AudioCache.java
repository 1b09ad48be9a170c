package dev.localai.tts.core.engine;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * An LRU cache of finished audio, bounded by the bytes of the samples it holds. Keys identify everything that
 * determines the audio (text, voice, seed, sampling parameters, model revision). Thread-safe.
 *
 * @param <K> the key type (a record is ideal)
 */
public final class AudioCache<K> {
    private final long maxBytes;
    private final LinkedHashMap<K, Entry> map = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private long hits;
    private long misses;

    /** A cache holding at most {@code maxBytes} bytes of samples (4 bytes per sample); 0 disables it. */
    public AudioCache(long maxBytes) {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0");
        }
        this.maxBytes = maxBytes;
    }

    /**
     * A finished clip with the token counts of the synthesis that made it (reported again when it is served).
     *
     * @param samples      the audio (callers get their own copy)
     * @param inputTokens  text tokens of the request
     * @param outputTokens speech tokens generated
     */
    public record Entry(float[] samples, long inputTokens, long outputTokens) {
        public Entry {
            Objects.requireNonNull(samples, "samples");
        }
    }

    /** The cached samples for {@code key} (a copy the caller owns), or null. */
    public float[] get(K key) {
        Entry e = entry(key);
        return e == null ? null : e.samples();
    }

    /** The cached clip for {@code key} (its samples a copy the caller owns), or null. */
    public synchronized Entry entry(K key) {
        Entry v = map.get(Objects.requireNonNull(key));
        if (v == null) {
            misses++;
            return null;
        }
        hits++;
        return new Entry(v.samples().clone(), v.inputTokens(), v.outputTokens());
    }

    /** Stores a copy of {@code samples}; clips larger than the whole cache are not stored. */
    public void put(K key, float[] samples) {
        put(key, samples, 0, 0);
    }

    /** Stores a copy of {@code samples} with the token counts that made them; clips larger than the cache are not stored. */
    public synchronized void put(K key, float[] samples, long inputTokens, long outputTokens) {
        long size = 4L * samples.length;
        if (size > maxBytes) {
            return;
        }
        Entry old = map.put(Objects.requireNonNull(key), new Entry(samples.clone(), inputTokens, outputTokens));
        if (old != null) {
            bytes -= 4L * old.samples().length;
        }
        bytes += size;
        for (Iterator<Map.Entry<K, Entry>> it = map.entrySet().iterator(); bytes > maxBytes && it.hasNext();) {
            Map.Entry<K, Entry> eldest = it.next();
            bytes -= 4L * eldest.getValue().samples().length;
            it.remove();
        }
    }

    public synchronized long bytes() {
        return bytes;
    }

    public synchronized int size() {
        return map.size();
    }

    public synchronized long hits() {
        return hits;
    }

    public synchronized long misses() {
        return misses;
    }

    public synchronized void clear() {
        map.clear();
        bytes = 0;
    }
}
