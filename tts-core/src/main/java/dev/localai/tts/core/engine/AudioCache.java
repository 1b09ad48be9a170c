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
    private final LinkedHashMap<K, float[]> map = new LinkedHashMap<>(16, 0.75f, true);
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

    /** The cached samples for {@code key} (a copy the caller owns), or null. */
    public synchronized float[] get(K key) {
        float[] v = map.get(Objects.requireNonNull(key));
        if (v == null) {
            misses++;
            return null;
        }
        hits++;
        return v.clone();
    }

    /** Stores a copy of {@code samples}; clips larger than the whole cache are not stored. */
    public synchronized void put(K key, float[] samples) {
        long size = 4L * samples.length;
        if (size > maxBytes) {
            return;
        }
        float[] old = map.put(Objects.requireNonNull(key), samples.clone());
        if (old != null) {
            bytes -= 4L * old.length;
        }
        bytes += size;
        for (Iterator<Map.Entry<K, float[]>> it = map.entrySet().iterator(); bytes > maxBytes && it.hasNext();) {
            Map.Entry<K, float[]> eldest = it.next();
            bytes -= 4L * eldest.getValue().length;
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
